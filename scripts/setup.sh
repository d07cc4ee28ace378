#!/usr/bin/env bash
# Installs and starts what Kiln's example builds and tests need, on Debian 12 as root.
# Safe to run again: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }

export DEBIAN_FRONTEND=noninteractive
missing=()
command -v packer >/dev/null 2>&1 || missing+=(packer)             # reference implementation for differential tests
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)         # the engine Kiln's docker builder talks to
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)   # a real registry for docker-push tests
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)     # its basic-auth password file
command -v ansible-playbook >/dev/null 2>&1 || missing+=(ansible)  # the ansible provisioner runs it on this host
command -v puppet >/dev/null 2>&1 || missing+=(puppet)              # puppet-masterless templates name it (and its tests check results)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} from Debian"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log 'starting the Docker engine'
  if [ -d /run/systemd/system ]; then
    systemctl start docker
  else
    nohup dockerd >/var/log/kiln-dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 150); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { echo 'the Docker engine did not start; see /var/log/kiln-dockerd.log' >&2; exit 1; }
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log 'installing npm dependencies (the versions package-lock.json pins)'
  # Not `npm ci`: npm 11 rejects this lock file for lacking other platforms' optional
  # native bindings, while `npm install` installs exactly the locked versions and leaves it unchanged.
  npm install --no-audit --no-fund --loglevel=error
fi

log 'compiling'
npx --no-install projen compile >/dev/null

if [ ! -e cdk-app-example/node_modules/kiln ] || [ ! -e cdk-app-example/node_modules/@kiln-example/hardened-base ]; then
  log 'linking the example app to this checkout'
  (cd cdk-app-example && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
fi

# A tiny local base image: no registry can be reached, so images are made here.
if ! docker image inspect kiln/busybox:latest >/dev/null 2>&1; then
  log 'making the local base image kiln/busybox:latest from Debian busybox-static'
  w=$(mktemp -d)
  trap 'rm -rf "$w"' EXIT
  (cd "$w" && apt-get download busybox-static >/dev/null 2>&1) || { apt-get update -qq && (cd "$w" && apt-get download busybox-static >/dev/null); }
  dpkg-deb -x "$w"/busybox-static_*.deb "$w/x"
  mkdir -p "$w/root/bin" "$w/root/etc" "$w/root/root" "$w/root/tmp" && chmod 1777 "$w/root/tmp"
  cp "$w/x/bin/busybox" "$w/root/bin/"
  for a in $("$w/x/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$w/root/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$w/root/etc/passwd"
  echo 'root:x:0:' > "$w/root/etc/group"
  tar -C "$w/root" -c . | docker import -c 'CMD ["/bin/sh"]' - kiln/busybox:latest >/dev/null
fi
# An SSH target for the ssh communicator's tests: minimal Debian with openssh-server, made here
# (debootstrap from the Debian mirror, no registry). The tests run it with --network host on a free
# loopback port and their own throwaway keys; the host's own sshd (if any) is never touched.
if ! docker image inspect kiln/sshd:latest >/dev/null 2>&1; then
  log 'making the local image kiln/sshd:latest (debootstrap minbase + openssh-server, ~40 s)'
  command -v debootstrap >/dev/null 2>&1 || {
    apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
  }
  s=$(mktemp -d)
  # debootstrap mounts /proc (and more) inside the root while it works: unmount before removing.
  trap 'for m in proc sys dev/pts dev; do umount -l "$s/root/$m" 2>/dev/null || true; done; rm -rf "$s" ${w:+"$w"}' EXIT
  mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/\{0,1\}$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
  # debootstrap puts a policy-rc.d in the new root, so the package's postinst starts no sshd.
  debootstrap --variant=minbase --include=openssh-server,openssh-sftp-server bookworm "$s/root" "${mirror:-http://deb.debian.org/debian}" >"$s/log" 2>&1 \
    || { tail -n 20 "$s/log" >&2; echo 'debootstrap failed' >&2; exit 1; }
  rm -rf "$s"/root/var/lib/apt/lists/* "$s"/root/var/cache/apt/* "$s"/root/usr/share/locale/* \
    "$s"/root/usr/share/doc/* "$s"/root/usr/share/man/*
  mkdir -p "$s/root/run/sshd" "$s/root/root/.ssh" && chmod 700 "$s/root/root/.ssh"
  tar -C "$s/root" -c . | docker import -c 'CMD ["/usr/sbin/sshd","-D","-e"]' - kiln/sshd:latest >/dev/null
  rm -rf "$s"
  trap '[ -z "${w:-}" ] || rm -rf "$w"' EXIT
fi
# A machine with configuration-management tools for the ansible, ansible-local and puppet-masterless
# tests: kiln/sshd plus python3 (Ansible's modules), ansible-core, puppet and sudo (puppet-masterless
# runs with sudo by default), installed from the Debian mirror over the host network. The image carries
# the hash of its recipe and of the kiln/sshd it was made from, and is made again when either changes.
cm_packages='python3 ansible-core puppet sudo'
cm_recipe=$(printf '%s\n%s\n' "$cm_packages" "$(docker image inspect -f '{{.Id}}' kiln/sshd:latest)" | sha256sum | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "kiln.recipe"}}' kiln/cm:latest 2>/dev/null)" != "$cm_recipe" ]; then
  log "making the local image kiln/cm:latest (kiln/sshd + $cm_packages)"
  cm_box="kiln-setup-cm-$$"
  # The policy-rc.d keeps package scripts from starting services inside the container.
  docker run --name "$cm_box" --network host kiln/sshd:latest /bin/sh -c "
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d &&
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $cm_packages >/dev/null &&
    apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/sbin/policy-rc.d" >/dev/null \
    || { docker logs --tail 20 "$cm_box" >&2; docker rm -f "$cm_box" >/dev/null; echo 'making kiln/cm failed' >&2; exit 1; }
  docker commit -c 'CMD ["/usr/sbin/sshd","-D","-e"]' -c "LABEL kiln.recipe=$cm_recipe" "$cm_box" kiln/cm:latest >/dev/null
  docker rm -f "$cm_box" >/dev/null
fi
log 'ready'
