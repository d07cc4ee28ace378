import { javascript, typescript } from 'projen';

const project = new typescript.TypeScriptProject({
  name: 'kiln',
  description: 'Bake machine images from code: construct trees that synthesize Packer JSON templates, and an engine that builds them.',
  license: 'Apache-2.0',
  copyrightOwner: 'The Kiln authors',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  sampleCode: false,

  srcdir: 'lib',
  libdir: 'lib',
  testdir: 'test',
  bin: { kiln: 'bin/kiln' },
  entrypoint: 'lib/index.js',

  // This project runs its own CI script (.ci/run); no hosted workflows or releases.
  github: false,
  release: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  buildWorkflow: false,

  typescriptVersion: '5.9.3',
  minNodeVersion: '20.0.0',
  tsconfig: {
    compilerOptions: {
      target: 'ES2022',
      lib: ['es2022'],
      skipLibCheck: true,
    },
  },
  tsconfigDev: {
    compilerOptions: {
      target: 'ES2022',
      lib: ['es2022'],
      skipLibCheck: true,
    },
  },

  peerDeps: [
    'constructs@^10.4.2',
    // Only for the optional `kiln/cdktf` entry point (images used by Terraform stacks).
    'cdktf@^0.21.0',
    '@cdktf/provider-aws@^21.22.1',
  ],
  deps: [
    'ajv@^8.17.1',
    'yaml@^2.8.1',
    'dockerode@^5.0.1',
    'tar-stream@^3.1.7',
    'fastest-levenshtein@^1.0.16',
    // compress: LZ4 blocks (prebuilt lz4_flex) and xz (liblzma, prebuilt), both loaded only when used.
    'lz4-napi@^2.10.0',
    'lzma-native@^8.0.6',
    // The ssh communicator (null builder, ssh_* options): ssh, scp over exec channels, sftp.
    'ssh2@^1.17.0',
    // The amazon-ebs builder, loaded only when a build uses it.
    '@aws-sdk/client-ec2@^3.1169.0',
  ],
  devDeps: [
    '@types/dockerode@^4.0.2',
    '@types/tar-stream@^3.1.4',
    '@types/ssh2@^1.15.5',
    // EC2 cannot be reached from the test machines: amazon-ebs step logic is tested against a mocked client.
    'aws-sdk-client-mock@^4.1.0',
  ],

  jestOptions: {
    jestVersion: '^30',
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      collectCoverage: false,
      // Sources are compiled in place: resolve the .ts, never a stale .js beside it.
      moduleFileExtensions: ['ts', 'tsx', 'js', 'json', 'node'],
      testMatch: [
        '<rootDir>/@(lib|test)/**/*(*.)@(spec|test).ts?(x)',
        // The example's reusable construct package has its own tests.
        '<rootDir>/cdk-app-example/hardened-base/test/**/*.test.ts',
        '<rootDir>/cdk-app-example/test/**/*.test.ts',
      ],
      testTimeout: 120_000,
    },
  },
  eslint: true,
});

// File modes, tar headers and compression formats are bit fields.
project.eslint?.addRules({ 'no-bitwise': 'off' });

// cdktf and its AWS provider are needed only by `kiln/cdktf`; the core never loads them.
project.package.addField('peerDependenciesMeta', {
  'cdktf': { optional: true },
  '@cdktf/provider-aws': { optional: true },
});
project.package.addField('exports', {
  '.': './lib/index.js',
  './cdktf': './lib/cdktf/index.js',
  './package.json': './package.json',
});
project.package.addField('typesVersions', { '*': { cdktf: ['lib/cdktf/index.d.ts'] } });

// Tests write their results as JSON so CI can print one plain "N passed, N failed" line.
project.testTask.reset('jest --ci --maxWorkers=2 --json --outputFile=test-reports/results.json', {
  receiveArgs: true,
});
project.testTask.spawn(project.tasks.tryFind('eslint')!);

// From the component declarations, before each compile: the typed constructs (committed) and
// the precompiled schema validators (build artifacts). --prefer-ts-exts: read sources, not stale .js.
project.preCompileTask.exec('ts-node --prefer-ts-exts --project projenrc/tsconfig.json projenrc/generate-constructs.ts');
project.preCompileTask.exec('ts-node --prefer-ts-exts --project projenrc/tsconfig.json projenrc/generate-schemas.ts');

// The package step (npm pack) is not needed for a CLI that runs from its checkout.
project.tasks.tryFind('package')?.reset();

project.addTask('bench', {
  description: 'Benchmarks: Kiln side by side with Packer on the same templates',
  exec: 'ts-node --project test/tsconfig.json test/bench/run.ts',
  receiveArgs: true,
});

project.gitignore.exclude('kiln.out/', 'cdktf.out/', 'test-reports/', '.kiln-tmp/');
project.npmignore?.exclude('test/', 'cdk-app-example/', '.ci/');

project.synth();
