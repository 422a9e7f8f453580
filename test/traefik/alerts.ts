/**
 * Whether an alert of deploy/prometheus/traefik-sync-rules.yml fires on metrics a test scraped:
 * promtool evaluates the real rule file on those values held constant for 30 minutes. An empty
 * expectation makes promtool print the alerts that did fire, which is read back.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { tempDir } from '../helpers/temp-dir.js';

const RULES = fileURLToPath(new URL('../../deploy/prometheus/traefik-sync-rules.yml', import.meta.url));

/** Whether promtool is there (in CI it must be). */
export function havePromtool(): boolean {
  return spawnSync('promtool', ['--version']).status === 0;
}

/** The `traefik_sync_*` samples of a /metrics text, as promtool input series (constant values). */
function seriesOf(metricsText: string): Array<{ series: string; values: string }> {
  const out: Array<{ series: string; values: string }> = [];
  for (const line of metricsText.split('\n')) {
    const m = /^(traefik_sync_[a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || !Number.isFinite(Number(m[3]))) continue;
    out.push({ series: `${m[1]}${m[2] ?? ''}`, values: `${m[3]}+0x30` });
  }
  return out;
}

/** 'firing' when `alert` fires after 20 minutes of these values, else 'quiet'. */
export async function alertState(alert: string, metricsText: string): Promise<'firing' | 'quiet'> {
  const dir = await tempDir('tsync-alerts-');
  const file = path.join(dir, 'test.yml');
  await writeFile(
    file,
    stringify({
      rule_files: [RULES],
      evaluation_interval: '1m',
      tests: [
        { interval: '1m', input_series: seriesOf(metricsText), alert_rule_test: [{ eval_time: '20m', alertname: alert, exp_alerts: [] }] },
      ],
    }),
  );
  const r = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
  if (r.status === 0) return 'quiet';
  const out = `${r.stdout}${r.stderr}`;
  if (out.includes(`alertname="${alert}"`)) return 'firing';
  throw new Error(`promtool failed: ${out}`);
}
