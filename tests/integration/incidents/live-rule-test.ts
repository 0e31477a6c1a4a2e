// Builds a promtool rule test from incident clocks as the orchestrator exported them: each clock's series
// counts down from its live value, and each alert must stay quiet one step before the moment it should
// page and fire at that moment, with the labels and annotations Prometheus would give it.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify, parse } from 'yaml';

export const RULES_FILE = path.resolve(import.meta.dirname, '../../../deploy/prometheus/rules/incidents.yml');

/** How long before each deadline its alert pages, as incidents.yml states it. */
export function leadSeconds(clock: string, severity: string): number {
  if (clock === 'response') return { critical: 900, high: 3600, medium: 21_600, low: 14_400 }[severity] ?? Number.NaN;
  return { assessment: 3600, notification: 21_600, report: 172_800 }[clock] ?? Number.NaN;
}

const DUE_SOON: Record<string, string> = {
  response: 'IncidentResponseDueSoon',
  assessment: 'IncidentAssessmentDueSoon',
  notification: 'IncidentNotificationDueSoon',
  report: 'IncidentReportDueSoon',
};

/** Prometheus's humanizeDuration for the values these rules produce. */
export function humanizeDuration(value: number): string {
  if (value === 0) return '0s';
  const sign = value < 0 ? '-' : '';
  const total = Math.trunc(Math.abs(value));
  const [days, hours, minutes, seconds] = [Math.floor(total / 86_400), Math.floor(total / 3600) % 24, Math.floor(total / 60) % 60, total % 60];
  if (days) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
  if (hours) return `${sign}${hours}h ${minutes}m ${seconds}s`;
  if (minutes) return `${sign}${minutes}m ${seconds}s`;
  return `${sign}${Number(Math.abs(value).toPrecision(4))}s`;
}

type Rule = { alert: string; labels: Record<string, string>; annotations: Record<string, string> };

function render(template: string, labels: Record<string, string>, value: number): string {
  return template.replaceAll(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => labels[name] ?? '').replaceAll('{{ $value | humanizeDuration }}', humanizeDuration(value));
}

export interface LiveClock {
  incident: string;
  clock: string;
  incident_severity: string;
  /** Seconds left as scraped. */
  value: number;
}

/** Writes the promtool test for these clocks into `dir`; returns its path and the moments it checks. */
export async function writeLiveRuleTest(dir: string, clocks: readonly LiveClock[]): Promise<{ file: string; checks: string[] }> {
  const rules = (parse(await readFile(RULES_FILE, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
  const ruleOf = (name: string) => {
    const rule = rules.find((r) => r.alert === name);
    if (!rule) throw new Error(`no alert ${name} in ${RULES_FILE}`);
    return rule;
  };
  const checks: string[] = [];
  const tests = clocks.map((live) => {
    const step = live.clock === 'report' ? 3600 : live.clock === 'notification' ? 300 : 60;
    const value = Math.round(live.value);
    const lead = leadSeconds(live.clock, live.incident_severity);
    const fireStep = Math.ceil((value - lead) / step);
    const missStep = Math.ceil(value / step);
    if (!(fireStep >= 1)) throw new Error(`${live.incident} ${live.clock}: already within its alert's lead time (${value} s left)`);
    const labels = { job: 'orchestrator', instance: '127.0.0.1:7400', incident: live.incident, clock: live.clock, incident_severity: live.incident_severity };
    const series = `fleet_incident_deadline_seconds{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(', ')}}`;
    const expectation = (alert: string, at: number, shown: number) => {
      const rule = ruleOf(alert);
      const all = { ...labels, ...rule.labels };
      return {
        eval_time: `${at * step}s`,
        alertname: alert,
        exp_alerts: [{ exp_labels: all, exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([k, t]) => [k, render(t, all, shown)])) }],
      };
    };
    const dueSoon = DUE_SOON[live.clock] ?? '';
    checks.push(`${live.incident} ${live.clock}: ${dueSoon} at ${fireStep * step} s (${value - fireStep * step} s left), missed at ${missStep * step} s`);
    return {
      name: `${live.incident} ${live.clock} from ${value} s left`,
      interval: `${step}s`,
      input_series: [{ series, values: `${value}-${step}x${missStep + 2}` }],
      alert_rule_test: [
        { eval_time: `${(fireStep - 1) * step}s`, alertname: dueSoon, exp_alerts: [] },
        expectation(dueSoon, fireStep, value - fireStep * step),
        { eval_time: `${(missStep - 1) * step}s`, alertname: 'IncidentDeadlineMissed', exp_alerts: [] },
        expectation('IncidentDeadlineMissed', missStep, missStep * step - value),
      ],
    };
  });
  const file = path.join(dir, 'live-incident-clocks.yml');
  await writeFile(file, stringify({ rule_files: [RULES_FILE], evaluation_interval: '1m', tests }));
  return { file, checks };
}
