// The report's text comes from people and from the clients' agents (audit actors and actions, error text
// in containment details): a report file read in a terminal or a browser shows escape sequences, other
// controls and bidirectional overrides as visible escapes, never acts on them or reorders what is read.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { incidentClocks } from '../../../orchestrator/src/services/incidents/incident-clocks.ts';
import type { ReportModel } from '../../../orchestrator/src/services/incidents/report-model.ts';
import { htmlText, mdText, renderReportHtml, renderReportMarkdown } from '../../../orchestrator/src/services/incidents/report-render.ts';
import { at, incident } from './incident-fixture.ts';

const ESC = String.fromCharCode(0x1b);
const BEL = String.fromCharCode(0x07);
const CSI = String.fromCharCode(0x9b);
const RIGHT_TO_LEFT_OVERRIDE = String.fromCharCode(0x202e);
const ISOLATE = String.fromCharCode(0x2066);
const ACTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

function model(): ReportModel {
  const record = incident({
    containment: [{ clientId: 'acme', step: 'kill', at: at(0.5).toISOString(), by: 'ops@host', outcome: 'failed', detail: `provider said ${CSI}2J${ESC}[31mALL CLEAR` }],
  });
  return {
    incident: record,
    clocks: incidentClocks(record, at(1), { timeZone: 'UTC' }),
    timeline: [{ at: at(0.2).toISOString(), source: 'audit:acme', actor: `${ESC}]8;;https://evil.example${BEL}agent${ESC}]8;;${BEL}`, what: `email_sent ${RIGHT_TO_LEFT_OVERRIDE}fdp.exe${ISOLATE}`, outcome: 'success' }],
    auditSources: [{ clientId: 'acme', note: 'from the bundle' }],
    grants: [],
    generatedAt: at(1).toISOString(),
    final: false,
    incidentText: 'shown',
  };
}

void test('Markdown and HTML reports show controls and bidirectional overrides as visible escapes', () => {
  for (const body of [renderReportMarkdown(model()), renderReportHtml(model())]) {
    assert.doesNotMatch(body, ACTIVE);
    assert.match(body, /x1b\\?\]8;;https:\/\/evil\.example/, 'the escape is shown, not acted on');
    assert.ok(body.includes('u202efdp.exe'));
    assert.ok(body.includes('x9b2J'));
  }
  assert.equal(mdText(`a${ESC}b`), 'a\\\\x1bb', 'in Markdown the backslash of the escape is itself escaped');
  assert.equal(htmlText(`a${RIGHT_TO_LEFT_OVERRIDE}b`), 'a\\u202eb');
  assert.equal(mdText('tab\tand line\nfeed'), 'tab\tand line feed', 'tab stays; a line break still joins the line');
});
