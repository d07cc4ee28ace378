#!/usr/bin/env bash
# The main job: set up, then synthesize the example app's templates and build its images with Kiln.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

cd cdk-app-example
npx --no-install kiln synth
npx --no-install kiln build
echo
echo "Built images:"
docker image ls --format '  {{.Repository}}:{{.Tag}}  {{.ID}}  {{.Size}}' --filter reference='kiln-example/*'
echo
echo "The web image contains the base image's hardening and the site:"
docker run --rm --entrypoint /bin/sh kiln-example/web:latest -c 'cat /etc/kiln/hardened; cat /etc/motd; ls -l /srv/www'
