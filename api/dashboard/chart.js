// Horizontal bar charts drawn as inline SVG: one row per bar with its label, the bar scaled to
// the largest value, the number and, when given, a share. No chart library: the page loads
// nothing from elsewhere.
import { fmtInt, svg } from './dom.js';

const WIDTH = 640;
const LABEL_WIDTH = 150;
const VALUE_WIDTH = 120;
const ROW = 34;
const BAR = 22;

/**
 * bars: [{ key, label, value, tone, share? }] — `key` names the row (data-key) so that the
 * numbers can be found again; `share` is a text such as "42.0%".
 */
export function barChart(bars, { title } = {}) {
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  const span = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const height = bars.length * ROW + 8;
  const summary = bars.map((bar) => `${bar.label}: ${bar.value}`).join(', ');
  return svg(
    'svg',
    { class: 'chart', viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': title ? `${title}: ${summary}` : summary, preserveAspectRatio: 'xMinYMin meet' },
    title ? svg('title', null, title) : null,
    bars.map((bar, i) => {
      const y = 4 + i * ROW;
      const width = bar.value > 0 ? Math.max(2, (bar.value / max) * span) : 0;
      return svg(
        'g',
        { class: `bar tone-${bar.tone ?? 'blue'}`, 'data-key': bar.key },
        svg('text', { class: 'bar-label', x: LABEL_WIDTH - 12, y: y + BAR / 2, 'text-anchor': 'end', 'dominant-baseline': 'central' }, bar.label),
        svg('rect', { class: 'bar-track', x: LABEL_WIDTH, y, width: span, height: BAR, rx: 3 }),
        svg('rect', { class: 'bar-fill', x: LABEL_WIDTH, y, width: width.toFixed(1), height: BAR, rx: 3 }),
        svg(
          'text',
          { class: 'bar-value', x: LABEL_WIDTH + span + 10, y: y + BAR / 2, 'dominant-baseline': 'central' },
          svg('tspan', { class: 'value', 'data-value': bar.value }, fmtInt(bar.value)),
          bar.share ? svg('tspan', { class: 'share', dx: 8 }, bar.share) : null,
        ),
      );
    }),
  );
}
