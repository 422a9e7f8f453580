/**
 * The YAML fast path must write exactly what the `yaml` library writes (golden files and every
 * checksum depend on those bytes), and must actually be taken for the files the renderer makes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { fastYaml } from '../../src/render/fast-yaml.js';
import { renderProject } from '../../src/render/project.js';
import { YAML_OPTIONS } from '../../src/render/serialize.js';
import { shop } from './fixtures.js';

const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 2000);
const library = (v: unknown) => stringify(v, YAML_OPTIONS);

/** Strings built from characters that decide plain vs quoted in YAML, and look-alikes of other types. */
const CHARS = [...'aZ09_-./@`()&|=!$^*+?<>~%,;:\'" #[]{}\\\ttéx', '\n', ': ', ' #', '0x', '0o', '.inf', '.nan', 'e5'];
const trickyString = fc.oneof(
  fc.array(fc.constantFrom(...CHARS), { maxLength: 12 }).map((cs) => cs.join('')),
  fc.constantFrom(
    '',
    'true',
    'False',
    'NULL',
    '~',
    'yes',
    'No',
    'on',
    'OFF',
    'y',
    '1',
    '-1',
    '+1',
    '1.5',
    '.5',
    '1e3',
    '0x1F',
    '0o17',
    '.inf',
    '-.Inf',
    '.NaN',
    '10.0.0.0/8',
    'Host(`a.example`) && PathPrefix(`/api`)',
    'http://api:3000',
    'shop_api_abc@file',
    'noop@internal',
    'a: b',
    'a #b',
    'a:',
    'a ',
    ' a',
    '-a',
    '- a',
    '?a',
    '? a',
  ),
  fc.string({ maxLength: 8 }),
);
const scalar = fc.oneof(trickyString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const doc = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, scalar, tie('map'), tie('list')),
  map: fc.dictionary(trickyString, tie('value'), { maxKeys: 5 }),
  list: fc.array(tie('value'), { maxLength: 4 }),
}));

describe('fastYaml', () => {
  it('writes exactly what the yaml library writes, or declines', () => {
    let taken = 0;
    fc.assert(
      fc.property(doc.map, (value) => {
        const fast = fastYaml(value);
        if (fast !== undefined) {
          taken++;
          expect(fast).toBe(library(value));
        }
      }),
      { numRuns: NUM_RUNS },
    );
    expect(taken).toBeGreaterThan(NUM_RUNS / 10); // the comparison is not vacuous
  });

  it("is taken for the renderer's files, byte for byte the same", () => {
    const { files, problems } = renderProject(shop, { configDir: '/app/traefik-configs' });
    expect(problems).toEqual([]);
    let taken = 0;
    for (const f of files.filter((x) => x.path.endsWith('.yml'))) {
      const body = f.content.split('\n').slice(3).join('\n');
      const value = parse(body.replace(/\{\{"([{}]+)"\}\}/g, '$1'));
      const fast = fastYaml(value);
      if (fast === undefined) continue;
      taken++;
      expect(fast).toBe(library(value));
    }
    expect(taken).toBeGreaterThan(0);
  });
});
