/*
 * Run by communicator.test.ts in a child process (`node --expose-gc`, small
 * heap, so a collection is cheap): copies one file up or down with the
 * compiled ssh communicator while sampling live memory, and prints
 * {"peak": <bytes of growth>}. Arguments: a JSON object
 * {port, key, method, direction, local, remote, mode}.
 */
const fs = require('fs');
const path = require('path');
const root = path.resolve(__dirname, '../../../..');
const { sshPlan } = require(path.join(root, 'lib/components/communicators/ssh'));
const { dial } = require(path.join(root, 'lib/components/communicators/ssh/connect'));
const { SshCommunicator } = require(path.join(root, 'lib/components/communicators/ssh/communicator'));

const a = JSON.parse(process.argv[2]);
const used = () => {
  global.gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

(async () => {
  const plan = sshPlan({ ssh_host: '127.0.0.1', ssh_port: a.port, ssh_username: 'root', ssh_private_key_file: a.key, ssh_file_transfer_method: a.method }, process.cwd());
  const signal = new AbortController().signal;
  const comm = new SshCommunicator(plan.settings, await dial(plan.settings, signal), { signal });
  const base = used();
  let peak = base;
  const timer = setInterval(() => { peak = Math.max(peak, used()); }, 25);
  const started = Date.now();
  if (a.direction === 'up') {
    await comm.upload(a.remote, fs.createReadStream(a.local), { size: fs.statSync(a.local).size, mode: a.mode });
  } else {
    const out = fs.createWriteStream(a.local);
    await comm.download(a.remote, out);
    await new Promise((resolve, reject) => out.end((e) => (e ? reject(e) : resolve())));
  }
  clearInterval(timer);
  comm.close();
  process.stdout.write(JSON.stringify({ peak: Math.max(peak, used()) - base, ms: Date.now() - started }));
})().catch((e) => {
  process.stderr.write(String(e && e.stack || e));
  process.exit(1);
});
