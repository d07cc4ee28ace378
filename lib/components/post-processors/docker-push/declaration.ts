import { declareComponent } from '../../../template/component';

/** Pushes the image (and every tag docker-tag gave it) to its registry. */
export const dockerPushPostProcessor = declareComponent({
  kind: 'post-processor',
  type: 'docker-push',
  summary: 'Pushes a committed, imported or tagged Docker image and its tags to a registry.',
  fields: {
    login: { kind: 'boolean', doc: 'Log in to the registry before pushing, and out afterwards.', default: 'false' },
    login_username: { kind: 'string', doc: 'Registry user for `login`.', default: '- none' },
    login_password: { kind: 'string', doc: 'Registry password for `login`.', default: '- none', secret: true },
    login_server: { kind: 'string', doc: 'Registry address for `login` and `ecr_login`.', default: '- Docker Hub' },
    ecr_login: { kind: 'boolean', doc: 'Log in to Amazon ECR with AWS credentials before pushing; needs `login_server`.', default: 'false' },
    aws_access_key: { kind: 'string', doc: 'AWS access key for `ecr_login`.', default: '- the usual AWS credential sources', secret: true },
    aws_secret_key: { kind: 'string', doc: 'AWS secret key for `ecr_login`.', default: '- the usual AWS credential sources', secret: true },
    aws_token: { kind: 'string', doc: 'AWS session token for `ecr_login`.', default: '- AWS_SESSION_TOKEN', secret: true },
    aws_profile: { kind: 'string', doc: 'AWS shared-credentials profile for `ecr_login`.', default: '- the default profile' },
  },
  check(config) {
    return config.ecr_login && !config.login_server ? ['"ecr_login" needs "login_server"'] : [];
  },
});
