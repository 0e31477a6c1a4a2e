// The Watchdog's receiver in the rendered Alertmanager config: none by default, a dead man's switch's
// webhook when one is given; either way a config amtool accepts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import {
  ALERTMANAGER_TEMPLATE,
  parseMonitoringConfigOptions,
  renderAlertmanagerConfig,
} from '../../../deploy/monitoring/render-config.ts';

type Receivers = { receivers: { name: string; webhook_configs?: { url: string }[] }[] };
const template = readFileSync(ALERTMANAGER_TEMPLATE, 'utf8');
const render = (extra: Record<string, unknown> = {}) =>
  renderAlertmanagerConfig(template, parseMonitoringConfigOptions({ targetsFile: '/var/lib/fleet/agents.json', ...extra }));
const watchdogOf = (text: string) => (parseYaml(text) as Receivers).receivers.find((receiver) => receiver.name === 'watchdog');

function amtoolAccepts(text: string): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-watchdog-render-'));
  try {
    const file = path.join(dir, 'alertmanager.yml');
    writeFileSync(file, text);
    const result = spawnSync('amtool', ['check-config', file], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void describe('the watchdog receiver', () => {
  void it('has no integration by default (the orchestrator watches through the API)', () => {
    const text = render();
    assert.deepEqual(watchdogOf(text), { name: 'watchdog' });
    amtoolAccepts(text);
  });

  void it('sends to a dead man’s switch when one is given, and refuses anything but http(s)', () => {
    const text = render({ watchdogWebhookUrl: 'https://hc-ping.example/5f1e' });
    assert.deepEqual(watchdogOf(text)?.webhook_configs?.map((config) => config.url), ['https://hc-ping.example/5f1e']);
    amtoolAccepts(text);
    assert.throws(() => render({ watchdogWebhookUrl: 'file:///etc/passwd' }), /watchdogWebhookUrl/);
  });

  void it('refuses a template whose Watchdog route would have no receiver', () => {
    const broken = template.replace(/^ {2}- name: watchdog\n/m, '');
    assert.notEqual(broken, template);
    assert.throws(
      () => renderAlertmanagerConfig(broken, parseMonitoringConfigOptions({ targetsFile: '/x/agents.json' })),
      /no receivers entry with name: watchdog/,
    );
  });
});
