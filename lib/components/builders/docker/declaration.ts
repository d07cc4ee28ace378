import * as fs from 'fs';
import * as path from 'path';
import { declareComponent } from '../../../template/component';
import { checkCommunicator } from '../../communicators/check';
import { communicatorFields, sshFields, winrmFields } from '../../communicators/fields';

export const dockerBuilder = declareComponent({
  kind: 'builder',
  type: 'docker',
  summary: 'Starts a container from an image, provisions it, then commits, exports or discards it.',
  generatedData: ['ImageSha256'],
  fields: {
    image: { kind: 'string', required: true, doc: 'The base image to start the container from.' },
    pull: { kind: 'boolean', doc: 'Pull the base image before starting; set false for images that exist only locally.', default: 'true' },
    commit: { kind: 'boolean', doc: 'Commit the container to a new image.', default: 'false' },
    discard: { kind: 'boolean', doc: 'Throw the container away after provisioning.', default: 'false' },
    export_path: { kind: 'string', doc: 'Export the container\'s filesystem as a tar file at this host path.', default: '- not exported' },
    changes: { kind: 'string-list', doc: 'Dockerfile instructions applied on commit (ENV, LABEL, EXPOSE, WORKDIR, USER, CMD, ENTRYPOINT, VOLUME, ONBUILD; the engine refuses others, MAINTAINER included).', default: '- none' },
    author: { kind: 'string', doc: 'Author of the committed image.', default: '- none' },
    message: { kind: 'string', doc: 'Commit message of the committed image.', default: '- none' },
    run_command: {
      kind: 'string-list',
      doc: 'Arguments of `docker run` that start the container; `{{.Image}}` is the base image. Kiln reads them into Engine API options as the docker CLI does; an option it does not read fails the build, naming it.',
      default: '["-d", "-i", "-t", "--entrypoint=/bin/sh", "--", "{{.Image}}"]',
      renderAtRuntime: true,
    },
    volumes: { kind: 'string-map', doc: 'Host paths to bind into the container, host path → container path.', default: '- none' },
    container_dir: { kind: 'string', doc: 'Directory in the container where uploads are staged.', default: '"/packer-files"' },
    device: { kind: 'string-list', doc: 'Host devices to add to the container.', default: '- none' },
    cap_add: { kind: 'string-list', doc: 'Linux capabilities to add.', default: '- none' },
    cap_drop: { kind: 'string-list', doc: 'Linux capabilities to drop.', default: '- none' },
    privileged: { kind: 'boolean', doc: 'Run the container privileged.', default: 'false' },
    tmpfs: { kind: 'string-list', doc: 'tmpfs mounts, `path[:options]`.', default: '- none' },
    exec_user: { kind: 'string', doc: 'User that provisioner commands run as.', default: '- the image\'s user' },
    pty: { kind: 'boolean', doc: 'Allocate a pseudo-terminal for provisioner commands.', default: 'false' },
    fix_upload_owner: { kind: 'boolean', doc: 'After each upload, give the files to the container\'s user.', default: 'true' },
    windows_container: { kind: 'boolean', doc: 'The image is a Windows container.', default: 'false' },
    login: { kind: 'boolean', doc: 'Log in to a registry before pulling.', default: 'false' },
    login_username: { kind: 'string', doc: 'Registry user for `login`.', default: '- none' },
    login_password: { kind: 'string', doc: 'Registry password for `login`.', secret: true, default: '- none' },
    login_server: { kind: 'string', doc: 'Registry address for `login`.', default: '- Docker Hub' },
    ecr_login: { kind: 'boolean', doc: 'Log in to Amazon ECR before pulling.', default: 'false' },
    aws_access_key: { kind: 'string', doc: 'AWS access key for ECR login.', secret: true, default: '- the AWS SDK\'s default credentials' },
    aws_secret_key: { kind: 'string', doc: 'AWS secret key for ECR login.', secret: true, default: '- the AWS SDK\'s default credentials' },
    aws_token: { kind: 'string', doc: 'AWS session token for ECR login.', secret: true, default: '- none' },
    aws_profile: { kind: 'string', doc: 'AWS profile for ECR login.', default: '- the default profile' },
    ...communicatorFields,
    ...sshFields,
    ...winrmFields,
  },
  check(config) {
    const errors: string[] = [];
    const modes = [config.commit, config.discard, Boolean(config.export_path)].filter(Boolean).length;
    if (modes === 0) errors.push('no instructions for the result: set exactly one of "commit", "discard" or "export_path"');
    if (modes > 1) errors.push('only one of "commit", "discard" and "export_path" may be set');
    if (config.export_path) {
      try {
        if (fs.statSync(path.resolve(config.export_path)).isDirectory()) {
          errors.push(`"export_path" ${JSON.stringify(config.export_path)} is a directory; it must name a file`);
        }
      } catch {
        // Not there yet: the build creates it.
      }
    }
    if (config.ecr_login && !config.login_server) errors.push('"ecr_login" needs "login_server"');
    const defaultCommunicator = config.windows_container ? 'dockerWindowsContainer' : 'docker';
    errors.push(...checkCommunicator(config, defaultCommunicator));
    return errors;
  },
});
