import { builder, sshGeneratedData } from '../../../../lib/components/builders/null/runtime';
import { Communicator, GeneratedData } from '../../../../lib/engine/types';
import { RUN_ID, scratch, testEnvironment } from '../../runtime-env';

/* The null builder: nothing is created, provisioners run with its generated data. */

describe('the null builder', () => {
  test('with communicator none, provisions with no communicator and Packer\'s generated data', async () => {
    const { env, lines } = testEnvironment({ cwd: scratch() });
    const calls: { communicator: Communicator | undefined; data: GeneratedData }[] = [];
    const artifact = await builder.run(env, { communicator: 'none' }, async (communicator, data) => { calls.push({ communicator, data }); });
    expect(calls).toEqual([{
      communicator: undefined,
      data: {
        ID: 'Null',
        PackerRunUUID: RUN_ID,
        PackerHTTPIP: 'ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER',
        PackerHTTPPort: 'ERR_HTTP_PORT_NOT_IMPLEMENTED_BY_BUILDER',
        PackerHTTPAddr: 'ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER',
      },
    }]);
    expect(lines).toEqual([]);
    expect(artifact).toMatchObject({ builderId: 'fnoeding.null', id: 'Null', files: [], state: { generated_data: { ID: 'Null' } } });
    expect(artifact!.describe()).toBe('Did not export anything. This is the null builder');
    await expect(artifact!.destroy()).resolves.toBeUndefined();
  });

  test('refuses winrm clearly, before provisioning anything', async () => {
    const { env } = testEnvironment({ cwd: scratch() });
    let provisioned = false;
    const provision = async () => { provisioned = true; };
    await expect(builder.run(env, { communicator: 'winrm', winrm_host: 'h', winrm_username: 'u', winrm_password: 'p' }, provision))
      .rejects.toThrow('the winrm communicator is not supported by Kiln; the null builder can connect with "ssh" (the default) or use "none"');
    expect(provisioned).toBe(false);
  });

  test('with ssh, settings that cannot work fail before connecting, with the reason', async () => {
    const { env, lines } = testEnvironment({ cwd: scratch({ 'bad.key': 'not a key' }) });
    await expect(builder.run(env, { ssh_host: '127.0.0.1', ssh_username: 'u', ssh_private_key_file: 'bad.key' }, async () => undefined))
      .rejects.toThrow(/^the private key "bad\.key" cannot be used: /);
    expect(lines[0]).toMatch(/^==> test: Error waiting for SSH: the private key "bad\.key" cannot be used: /);
  });

  test('with ssh, the generated data are the connection settings (Packer\'s communicator config)', () => {
    expect(sshGeneratedData(RUN_ID, { ssh_host: 'h', ssh_username: 'u', ssh_password: 'p' })).toEqual({
      ID: 'Null',
      Host: 'h',
      Port: 22,
      User: 'u',
      Password: 'p',
      ConnType: 'ssh',
      PackerRunUUID: RUN_ID,
      PackerHTTPIP: 'ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER',
      PackerHTTPPort: 'ERR_HTTP_PORT_NOT_IMPLEMENTED_BY_BUILDER',
      PackerHTTPAddr: 'ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER',
      SSHPublicKey: '',
      SSHPrivateKey: '',
      SSHAgentAuth: false,
      WinRMPassword: '',
    });
  });

  test('propagates a provisioning failure', async () => {
    const { env } = testEnvironment({ cwd: scratch() });
    await expect(builder.run(env, { communicator: 'none' }, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
  });
});
