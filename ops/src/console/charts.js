/* global document */
// Inline SVG charts, no library: a paired bar chart (throughput) and a line chart (lag) over
// per-minute slots. Each slot carries a <title>, the browser's own tooltip.

const SVG = 'http://www.w3.org/2000/svg';
const W = 640;
const H = 150;
const PAD = { left: 48, right: 8, top: 10, bottom: 20 };

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A round upper bound for the axis: 1, 2, 5 × 10ⁿ. */
function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

function frame(slots, max, format) {
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart-svg', role: 'img' });
  const plotH = H - PAD.top - PAD.bottom;
  for (const fraction of [0, 0.5, 1]) {
    const y = PAD.top + plotH * (1 - fraction);
    svg.append(el('line', { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: 'grid-line' }));
    const label = fraction === 0 ? '0' : format(max * fraction);
    svg.append(el('text', { x: PAD.left - 5, y: y + 3, class: 'axis', 'text-anchor': 'end' }, label));
  }
  const plotW = W - PAD.left - PAD.right;
  const n = slots.length;
  for (let i = 0; i <= n; i += 15) {
    const x = PAD.left + (plotW * i) / n;
    const minutesAgo = n - i;
    svg.append(
      el(
        'text',
        { x, y: H - 5, class: 'axis', 'text-anchor': i === 0 ? 'start' : i === n ? 'end' : 'middle' },
        minutesAgo === 0 ? 'now' : `−${minutesAgo} min`,
      ),
    );
  }
  return { svg, plotH, plotW, slotW: plotW / n };
}

const clock = (date) => date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** Accepted and completed amendments per minute, side by side. */
export function throughputChart(container, slots) {
  const max = niceMax(Math.max(0, ...slots.map((s) => Math.max(s.accepted, s.completed))));
  const { svg, plotH, slotW } = frame(slots, max, (v) => String(+v.toFixed(1)));
  slots.forEach((slot, i) => {
    const x = PAD.left + i * slotW;
    const group = el('g');
    group.append(
      el('title', {}, `${clock(slot.minute)} — ${slot.accepted} accepted, ${slot.completed} completed`),
    );
    group.append(el('rect', { x, y: PAD.top, width: slotW, height: plotH, class: 'hover-target' }));
    const barW = Math.max(1, slotW / 2 - 0.5);
    [
      ['accepted', slot.accepted, x],
      ['completed', slot.completed, x + barW],
    ].forEach(([kind, value, bx]) => {
      if (!value) return;
      const h = (plotH * value) / max;
      group.append(
        el('rect', { x: bx, y: PAD.top + plotH - h, width: barW, height: h, class: `bar ${kind}` }),
      );
    });
    svg.append(group);
  });
  container.replaceChildren(svg);
}

/** Milliseconds as the axis needs them: 850 ms, 1.5 s, 2 min. */
export function lag(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${+(ms / 1000).toFixed(1)} s`;
  return `${+(ms / 60_000).toFixed(1)} min`;
}

/** Average and longest acceptance-to-COMPLETED time per minute; gaps where nothing completed. */
export function lagChart(container, slots) {
  // At least a second: an empty hour reads 0 / 500 ms / 1 s, not 0 / 1 ms / 1 ms.
  const max = Math.max(1000, niceMax(Math.max(0, ...slots.map((s) => s.maxLagMs ?? 0))));
  const { svg, plotH, slotW } = frame(slots, max, lag);
  const y = (seconds) => PAD.top + plotH * (1 - seconds / max);
  for (const [key, kind] of [
    ['maxLagMs', 'lag-max'],
    ['averageLagMs', 'lag-avg'],
  ]) {
    let run = [];
    const flush = () => {
      if (run.length > 1) svg.append(el('polyline', { points: run.join(' '), class: `line ${kind}` }));
      run = [];
    };
    slots.forEach((slot, i) => {
      const value = slot[key];
      if (value === null || value === undefined) return flush();
      const cx = PAD.left + i * slotW + slotW / 2;
      run.push(`${cx.toFixed(1)},${y(value).toFixed(1)}`);
      const point = el('circle', { cx, cy: y(value), r: 2.6, class: `point ${kind}` });
      point.append(
        el(
          'title',
          {},
          `${clock(slot.minute)} — ${slot.completed} completed, average ${lag(slot.averageLagMs)}, longest ${lag(slot.maxLagMs)}`,
        ),
      );
      svg.append(point);
    });
    flush();
  }
  container.replaceChildren(svg);
}

/** The last `minutes` whole minutes up to now, each with the server's numbers or zeros. */
export function minuteSlots(activity, minutes = 60, now = new Date()) {
  const byMinute = new Map(activity.map((a) => [Math.floor(Date.parse(a.minute) / 60_000), a]));
  const current = Math.floor(now.getTime() / 60_000);
  const slots = [];
  for (let m = current - minutes + 1; m <= current; m++) {
    const a = byMinute.get(m);
    slots.push({
      minute: new Date(m * 60_000),
      accepted: a?.accepted ?? 0,
      completed: a?.completed ?? 0,
      averageLagMs: a?.averageLagMs ?? null,
      maxLagMs: a?.maxLagMs ?? null,
    });
  }
  return slots;
}
