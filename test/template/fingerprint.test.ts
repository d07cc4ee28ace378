import { FINGERPRINT_TAG, templateFingerprint, withFingerprintTags } from '../../lib/template/fingerprint';

const template = {
  builders: [
    { type: 'amazon-ebs', region: 'eu-west-1', ami_name: 'web', tags: { team: 'web' } },
    { type: 'docker', image: 'debian', commit: true },
  ],
  provisioners: [
    { type: 'shell', inline: ['echo one'] },
    { type: 'shell', inline: ['echo two'] },
  ],
};

describe('templateFingerprint', () => {
  test('ignores key order but not provisioner order', () => {
    const builders = template.builders.map((b) => Object.fromEntries(Object.entries(b).reverse()));
    const reordered = { provisioners: template.provisioners, builders };
    expect(templateFingerprint(reordered)).toBe(templateFingerprint(template));
    const swapped = { ...template, provisioners: [...template.provisioners].reverse() };
    expect(templateFingerprint(swapped)).not.toBe(templateFingerprint(template));
  });

  test('any change to a provisioner changes it', () => {
    const changed = { ...template, provisioners: [template.provisioners[0], { type: 'shell', inline: ['echo two!'] }] };
    expect(templateFingerprint(changed)).not.toBe(templateFingerprint(template));
  });

  test('adding the fingerprint tag leaves the fingerprint unchanged', () => {
    const fp = templateFingerprint(template);
    const tagged = withFingerprintTags(template, fp);
    expect(tagged.builders[0]).toEqual({ ...template.builders[0], tags: { team: 'web', [FINGERPRINT_TAG]: fp } });
    expect(templateFingerprint(tagged)).toBe(fp);
  });

  test('only builders that tag their images get the tag', () => {
    const tagged = withFingerprintTags(template, 'abc');
    expect(tagged.builders[1]).toBe(template.builders[1]);
  });

  test('a builder whose only tag is the fingerprint hashes as one without tags', () => {
    const bare = { builders: [{ type: 'amazon-ebs', ami_name: 'x' }] };
    const fp = templateFingerprint(bare);
    expect(templateFingerprint(withFingerprintTags(bare, fp))).toBe(fp);
    expect(templateFingerprint(withFingerprintTags(bare, 'something else'))).toBe(fp);
  });
});
