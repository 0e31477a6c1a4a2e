import type { PortalDailySeries } from '../settings-gateway.ts';

/**
 * Bar charts of the last days, as data for the summary template to draw as inline SVG: every number is
 * computed here, every text goes through the template's escaping (no markup is built from strings).
 * One colour per series, each paired with a pattern-free legend and a table of the same numbers. Pure.
 */

export interface ChartRect {
  x: number;
  y: number;
  width: number;
  height: number;
  fill: string;
  /** "2026-03-02: 4 sent", shown as the bar's tooltip. */
  label: string;
}

export interface Chart {
  id: string;
  title: string;
  /** One sentence for screen readers: totals and the busiest day. */
  description: string;
  width: number;
  height: number;
  rects: ChartRect[];
  gridLines: { y: number; label: string }[];
  xLabels: { x: number; label: string }[];
  legend: { label: string; fill: string }[];
  /** The same numbers as a table: one row per day. */
  table: { head: string[]; rows: string[][] };
}

interface Series {
  label: string;
  values: readonly number[];
  fill: string;
}

const WIDTH = 640;
const HEIGHT = 220;
const LEFT = 36;
const RIGHT = 16;
const BOTTOM = 24;
const TOP = 10;
// Dark enough for 3:1 against white (WCAG non-text contrast), and told apart by the legend and the table.
const COLOURS = ['#0b4f8a', '#b35900', '#2e7d4f', '#7b3294', '#9b1c14', '#4a5360'];

function niceMax(value: number): number {
  if (value <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((step) => step * magnitude).find((candidate) => candidate >= value) ?? value;
}

/** A bar chart of `series` over `days`: side by side (`grouped`) or one on top of the other (`stacked`). */
export function barChart(input: { id: string; title: string; unit: string; days: readonly string[]; series: readonly Series[]; mode: 'grouped' | 'stacked' }): Chart {
  const { days, series, mode } = input;
  const totals = days.map((_, day) => series.reduce((sum, one) => sum + (one.values[day] ?? 0), 0));
  const peak = mode === 'stacked' ? Math.max(0, ...totals) : Math.max(0, ...series.flatMap((one) => one.values));
  const top = niceMax(peak);
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const slot = (WIDTH - LEFT - RIGHT) / Math.max(1, days.length);
  const scale = (value: number) => (value / top) * plotHeight;
  const rects: ChartRect[] = [];
  days.forEach((day, index) => {
    let stackedHeight = 0;
    series.forEach((one, position) => {
      const value = one.values[index] ?? 0;
      if (value === 0) return;
      const height = scale(value);
      const barWidth = mode === 'stacked' ? slot * 0.7 : (slot * 0.8) / series.length;
      const x = LEFT + index * slot + slot * (mode === 'stacked' ? 0.15 : 0.1) + (mode === 'stacked' ? 0 : position * barWidth);
      const y = TOP + plotHeight - height - (mode === 'stacked' ? stackedHeight : 0);
      if (mode === 'stacked') stackedHeight += height;
      rects.push({ x: round(x), y: round(y), width: round(barWidth), height: round(height), fill: one.fill, label: `${day}: ${value} ${one.label.toLowerCase()}` });
    });
  });
  const gridLines = [0, 0.5, 1].map((fraction) => ({ y: round(TOP + plotHeight - fraction * plotHeight), label: String(Math.round(top * fraction)) }));
  const every = Math.max(1, Math.ceil(days.length / 6));
  const xLabels = days
    .map((day, index) => ({ x: round(LEFT + index * slot + slot / 2), label: day.slice(5) }))
    .filter((_, index) => (days.length - 1 - index) % every === 0);
  const grand = totals.reduce((sum, value) => sum + value, 0);
  const busiest = totals.indexOf(Math.max(...totals));
  const description =
    grand === 0
      ? `No ${input.unit} in the last ${days.length} days.`
      : `${grand} ${input.unit} in the last ${days.length} days (${series.map((one) => `${one.label}: ${one.values.reduce((a, b) => a + b, 0)}`).join(', ')}); the most on ${days[busiest]} (${totals[busiest]}).`;
  return {
    id: input.id,
    title: input.title,
    description,
    width: WIDTH,
    height: HEIGHT,
    rects,
    gridLines,
    xLabels,
    legend: series.map((one) => ({ label: one.label, fill: one.fill })),
    table: { head: ['Day', ...series.map((one) => one.label)], rows: days.map((day, index) => [day, ...series.map((one) => String(one.values[index] ?? 0))]) },
  };
}

const round = (value: number) => Math.round(value * 10) / 10;

/** The summary page's four charts: sends, drafts, approvals asked and decided, denials by reason. */
export function summaryCharts(series: PortalDailySeries, reasonLabel: (code: string) => string): Chart[] {
  const { days } = series;
  const reasons = Object.entries(series.denials).sort((a, b) => sum(b[1]) - sum(a[1]));
  const shown = reasons.slice(0, COLOURS.length - 1);
  const rest = reasons.slice(COLOURS.length - 1);
  const denials: Series[] = shown.map(([reason, values], index) => ({ label: reasonLabel(reason), values, fill: COLOURS[index] ?? '#4a5360' }));
  if (rest.length > 0) denials.push({ label: 'Other reasons', values: days.map((_, day) => rest.reduce((total, [, values]) => total + (values[day] ?? 0), 0)), fill: COLOURS.at(-1) ?? '#4a5360' });
  return [
    barChart({ id: 'chart-sent', title: 'Emails sent', unit: 'emails sent', days, series: [{ label: 'Sent', values: series.sent, fill: COLOURS[0] ?? '' }], mode: 'grouped' }),
    barChart({ id: 'chart-drafts', title: 'Drafts written', unit: 'drafts', days, series: [{ label: 'Drafts', values: series.drafted, fill: COLOURS[2] ?? '' }], mode: 'grouped' }),
    barChart({
      id: 'chart-approvals',
      title: 'Approvals asked and decided',
      unit: 'approvals',
      days,
      series: [
        { label: 'Asked', values: series.approvalsRequested, fill: COLOURS[1] ?? '' },
        { label: 'Decided', values: series.approvalsDecided, fill: COLOURS[0] ?? '' },
      ],
      mode: 'grouped',
    }),
    barChart({ id: 'chart-denials', title: 'Actions blocked, by reason', unit: 'actions blocked', days, series: denials, mode: 'stacked' }),
  ];
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
