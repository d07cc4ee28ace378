import { contextFor, errorFrom } from './helpers';
import { MAX_RENDER_ROUNDS, render, renderRepeatedly } from '../../../lib/template/interpolate';

/*
 * Packer renders some fields once (prepare) and others with Render, which
 * repeats until the output stops changing (run-time fields, build names,
 * `packer console`). Checked with packer 1.6.6.
 */

describe('renderRepeatedly', () => {
  const runtime = contextFor('provisioner', { data: { ID: 'abc123', Path: '/tmp/script.sh' } });

  test('an action that produces another action is rendered again', () => {
    expect(render('{{ "{{" }} .ID }}', runtime)).toBe('{{ .ID }}');
    expect(renderRepeatedly('{{ "{{" }} .ID }}', runtime)).toBe('abc123');
  });

  test('the {{.ID}} left by build at prepare time is filled at run time', () => {
    const prepared = render('echo {{ build `ID` }}', contextFor('provisioner', { data: { ID: 'Build_ID. To set this dynamically in the Packer template, you must use the `build` function' } }));
    expect(prepared).toBe('echo {{.ID}}');
    expect(renderRepeatedly(prepared, runtime)).toBe('echo abc123');
  });

  test('a user variable holding a data reference is resolved at run time', () => {
    const ctx = contextFor('provisioner', { data: { Path: '/tmp/script.sh' }, userVariables: { cmd: 'sh {{ .Path }}' } });
    expect(renderRepeatedly('{{ user `cmd` }}', ctx)).toBe('sh /tmp/script.sh');
  });

  test('a lone {{ produced by the first round is then a syntax error, as in Packer', () => {
    expect(errorFrom(() => renderRepeatedly('{{ "{{" }}', runtime)).message).toBe('template: root:1: unclosed action');
  });

  test('text without actions is returned at once', () => {
    expect(renderRepeatedly('plain', runtime)).toBe('plain');
  });

  test('output that never settles stops with an error instead of looping forever', () => {
    const ctx = contextFor('provisioner', { data: { X: 'a{{ .X }}' } });
    expect(errorFrom(() => renderRepeatedly('{{ .X }}', ctx)).message)
      .toBe(`template output kept changing after ${MAX_RENDER_ROUNDS} renders (Packer would loop forever): "{{ .X }}"`);
  });
});
