import { builder } from '../../../../lib/components/builders/null/runtime';
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

  test('fails clearly with the ssh communicator, its default, before provisioning anything', async () => {
    const { env } = testEnvironment({ cwd: scratch() });
    let provisioned = false;
    const provision = async () => { provisioned = true; };
    await expect(builder.run(env, { ssh_host: 'h', ssh_username: 'u', ssh_password: 'p' }, provision))
      .rejects.toThrow(/^the ssh communicator is not available yet in this version of Kiln; /);
    await expect(builder.run(env, { communicator: 'ssh' }, provision)).rejects.toThrow('the ssh communicator is not available yet');
    expect(provisioned).toBe(false);
  });

  test('propagates a provisioning failure', async () => {
    const { env } = testEnvironment({ cwd: scratch() });
    await expect(builder.run(env, { communicator: 'none' }, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
  });
});
