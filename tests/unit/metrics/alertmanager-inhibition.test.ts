// Alertmanager inhibition (deploy/alertmanager/alertmanager.yml) evaluated against the fleet's alerts
// (deploy/prometheus/rules/*.yml), with Alertmanager's own semantics: anchored regular expressions, a
// missing label equal to an empty one in `equal`, and an alert never muted by one that matches both sides.
// amtool cannot evaluate inhibitions offline; the live check in tests/integration covers one case.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';

const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
const ALERTMANAGER_FILE = path.join(REPO_ROOT, 'deploy/alertmanager/alertmanager.yml');
const RULES_DIR = path.join(REPO_ROOT, 'deploy/prometheus/rules');

type Labels = Readonly<Record<string, string>>;

interface Matcher {
  name: string;
  test: (value: string) => boolean;
}

interface InhibitRule {
  source: Matcher[];
  target: Matcher[];
  equal: string[];
}

const MATCHER = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|(\S*))\s*$/;

function parseMatcher(text: string): Matcher {
  const match = MATCHER.exec(text);
  assert.ok(match, `unparseable matcher: ${text}`);
  const [, name = '', op, quoted, bare] = match;
  const value = (quoted ?? bare ?? '').replace(/\\(.)/g, '$1');
  const pattern = new RegExp(`^(?:${value})$`);
  const tests: Record<string, (actual: string) => boolean> = {
    '=': (actual) => actual === value,
    '!=': (actual) => actual !== value,
    '=~': (actual) => pattern.test(actual),
    '!~': (actual) => !pattern.test(actual),
  };
  const test = tests[op ?? ''];
  assert.ok(test, `unknown operator in ${text}`);
  return { name, test };
}

const matchesAll = (matchers: Matcher[], labels: Labels) => matchers.every((m) => m.test(labels[m.name] ?? ''));

function loadInhibitRules(): InhibitRule[] {
  const config = parseYaml(readFileSync(ALERTMANAGER_FILE, 'utf8')) as {
    inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal?: string[] }[];
  };
  return config.inhibit_rules.map((rule) => ({
    source: rule.source_matchers.map(parseMatcher),
    target: rule.target_matchers.map(parseMatcher),
    equal: rule.equal ?? [],
  }));
}

/** Whether Alertmanager would mute `target` while every alert of `firing` fires. */
function inhibited(target: Labels, firing: Labels[], rules: InhibitRule[]): boolean {
  return rules.some((rule) => {
    if (!matchesAll(rule.target, target)) return false;
    // An alert on both sides of a rule is only muted by sources that are not themselves targets.
    const twoSided = matchesAll(rule.source, target);
    return firing.some(
      (source) =>
        source !== target &&
        matchesAll(rule.source, source) &&
        !(twoSided && matchesAll(rule.target, source)) &&
        rule.equal.every((name) => (source[name] ?? '') === (target[name] ?? '')),
    );
  });
}

function alertNames(): string[] {
  const names: string[] = [];
  for (const file of readdirSync(RULES_DIR).filter((name) => name.endsWith('.yml'))) {
    const document = parseYaml(readFileSync(path.join(RULES_DIR, file), 'utf8')) as { groups: { rules: { alert?: string }[] }[] };
    for (const rule of document.groups.flatMap((group) => group.rules)) if (rule.alert !== undefined) names.push(rule.alert);
  }
  return names.sort();
}

/** What a killed (or down) agent explains: muted while the kill notice (or the down page) fires. */
const SYMPTOMS = new Set([
  'MassSending',
  'EgressUpstreamFailing',
  'RateLimitHit',
  'SendingPaused',
  'NewRecipientDomainsBurst',
  'OffHoursActivity',
  'OldDataAccess',
  'AuthFailuresBurst',
  'ControlApiRefusals',
  'ConsentRevoked',
  'KnownSenderUnauthenticated',
  'SyncStalled',
  'PushWatchLapsed',
  'ReviewQueueBacklog',
  'ReviewQueueOverflow',
  'ModelBudgetExhausted',
  'JournalAnchorFailing',
  'DailySummaryFailed',
  'ApprovalBacklog',
  'ApprovalsExpiring',
  'ApprovalsExpired',
  'OnboardingItemsOpen',
  'AgentTargetsMissing',
  'AgentRestarting',
]);
/**
 * Muted by a kill (requests in flight at the kill are refused: a killed client may not connect) but not by
 * a down agent: one that cannot be scraped yet asks the proxy for hosts still runs, and one hiding its
 * metrics chooses how slowly it probes.
 */
const KILL_EXPLAINS_ONLY = new Set(['EgressRefused']);
/**
 * Never muted for a client: the notice itself, a kill that did not hold, evidence, the data obligations,
 * and a sustained egress attempt or refusals long after a kill (counted by the orchestrator's proxy: a
 * stopped agent makes no requests, so these are an agent still running, hidden or past its kill).
 */
const ALWAYS_HEARD = new Set([
  'KillSwitchEngaged',
  'SendingWhileKilled',
  'AuditChainBroken',
  'EgressRefusedBurst',
  'EgressWhileKilled',
  'ErasureDeadlineNear',
  'ErasureDeadlineMissed',
  'BackupStale',
  'RetentionPurgeFailing',
]);
/** Alerts about the fleet, without a client label. */
const FLEET_LEVEL = new Set([
  'Watchdog',
  'OrchestratorDown',
  'ReconcileFailures',
  'AuthFailuresBurstFleet',
  'OpsLogCheckpointProblem',
  'OpsLogCheckpointBehind',
  'OpsLogAnchoredOnFirstUse',
  'IncidentResponseDueSoon',
  'IncidentAssessmentDueSoon',
  'IncidentNotificationDueSoon',
  'IncidentReportDueSoon',
  'IncidentDeadlineMissed',
  'EgressProxyUndecided',
]);

void describe('alertmanager inhibition', () => {
  const rules = loadInhibitRules();
  const names = alertNames();
  const kill = { alertname: 'KillSwitchEngaged', client: 'acme', severity: 'info' };
  const down = { alertname: 'AgentDown', client: 'acme', severity: 'critical', instance: '127.0.0.1:9501', job: 'agents' };

  void it('every alert of the rules is classified here, so a new one gets a deliberate inhibition', () => {
    const classified = (name: string) =>
      SYMPTOMS.has(name) || KILL_EXPLAINS_ONLY.has(name) || ALWAYS_HEARD.has(name) || FLEET_LEVEL.has(name) || name === 'AgentDown';
    assert.deepEqual(names.filter((name) => !classified(name)), []);
    assert.ok(names.length >= 30, `expected the full alert set, found ${names.length}`);
  });

  void it("a kill mutes the client's symptoms, and nobody else's", () => {
    for (const alertname of [...SYMPTOMS, ...KILL_EXPLAINS_ONLY, 'AgentDown']) {
      const alert = { alertname, client: 'acme', severity: 'warning' };
      assert.equal(inhibited(alert, [kill, alert], rules), true, `${alertname} of a killed client`);
      assert.equal(inhibited({ ...alert, client: 'beta' }, [kill, alert], rules), false, `${alertname} of another client`);
    }
  });

  void it('a kill never mutes its own notice, a send while killed, a broken audit log or the data obligations', () => {
    for (const alertname of ALWAYS_HEARD) {
      const alert = { alertname, client: 'acme', severity: 'critical' };
      assert.equal(inhibited(alert, [kill, down, alert], rules), false, alertname);
    }
  });

  void it("a down agent mutes the client's symptoms but not itself", () => {
    for (const alertname of SYMPTOMS) {
      const alert = { alertname, client: 'acme', severity: 'warning' };
      assert.equal(inhibited(alert, [down, alert], rules), true, alertname);
    }
    assert.equal(inhibited(down, [down], rules), false);
  });

  void it('a down agent never mutes a refused request: an unscraped agent that asks for hosts still runs', () => {
    for (const alertname of KILL_EXPLAINS_ONLY) {
      const alert = { alertname, client: 'acme', severity: 'warning' };
      assert.equal(inhibited(alert, [down, alert], rules), false, alertname);
    }
  });

  void it('an alert without a client (a target that lost its label) mutes no fleet-level alert', () => {
    const unlabelledDown = { alertname: 'AgentDown', severity: 'critical', instance: '127.0.0.1:9599', job: 'agents' };
    const unlabelledKill = { alertname: 'KillSwitchEngaged', client: '', severity: 'info' };
    for (const alertname of FLEET_LEVEL) {
      const alert = { alertname, severity: 'critical' };
      assert.equal(inhibited(alert, [unlabelledDown, unlabelledKill, alert], rules), false, alertname);
    }
  });

  void it('the evaluator itself tells a muted alert from a heard one', () => {
    const mutesAll: InhibitRule[] = [{ source: [parseMatcher('alertname="AgentDown"')], target: [parseMatcher('alertname=~".+"')], equal: ['client'] }];
    const fleetAlert = { alertname: 'OrchestratorDown', severity: 'critical' };
    assert.equal(inhibited(fleetAlert, [{ alertname: 'AgentDown' }, fleetAlert], mutesAll), true);
    assert.equal(parseMatcher('alertname=~"Agent"').test('AgentDown'), false, 'regular expressions are anchored');
  });
});
