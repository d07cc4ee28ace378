#!/usr/bin/env bash
# The main job: set up, then synthesize the example app's templates and build its images with Kiln.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

cd cdk-app-example
npx --no-install kiln synth
echo
echo "Building the docker images. The AMI template (kiln.out/aws-web.json) and the Terraform stack"
echo "(cdktf.out/) are only synthesized: building an AMI needs AWS credentials and access to EC2,"
echo "which this machine does not have. Where it does: kiln build -only=aws-web kiln.out, then cdktf deploy."
npx --no-install kiln build -except=aws-web
echo
echo "Built images:"
docker image ls --format '  {{.Repository}}:{{.Tag}}  {{.ID}}  {{.Size}}' --filter reference='kiln-example/*'
echo
echo "The web image contains the base image's hardening and the site:"
docker run --rm --entrypoint /bin/sh kiln-example/web:latest -c 'cat /etc/kiln/hardened; cat /etc/motd; ls -l /srv/www'
