/** A horizontal bar chart as a standalone SVG string: one bar per labelled value, on a shared linear scale. */
export interface Bar {
  label: string;
  value: number;
  /** Text drawn after the bar (default: the value, rounded). */
  note?: string;
  /** Drawn in the highlight colour (the ceiling). */
  highlight?: boolean;
}

export interface BarChartOptions {
  title: string;
  /** Unit shown in the axis caption, e.g. "requests per second". */
  unit: string;
  width?: number;
}

const rowHeight = 28;
const labelWidth = 300;
const noteWidth = 150;

export function barChartSvg(bars: readonly Bar[], { title, unit, width = 900 }: BarChartOptions): string {
  if (bars.length === 0) throw new RangeError('a bar chart needs at least one bar');
  const max = Math.max(...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)), 1);
  const plotWidth = width - labelWidth - noteWidth;
  const top = 40;
  const height = top + bars.length * rowHeight + 30;
  const rows = bars.map((bar, i) => {
    const y = top + i * rowHeight;
    const value = Number.isFinite(bar.value) ? Math.max(0, bar.value) : 0;
    const w = (value / max) * plotWidth;
    const note = bar.note ?? Math.round(value).toLocaleString('en-US');
    return [
      `<text x="${labelWidth - 8}" y="${y + 17}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowHeight - 8}" fill="${bar.highlight ? '#9a9a9a' : '#2f6fb0'}"/>`,
      `<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 17}">${escapeXml(note)}</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...rows,
    `<line x1="${labelWidth}" y1="${top}" x2="${labelWidth}" y2="${top + bars.length * rowHeight}" stroke="#333"/>`,
    `<text x="${labelWidth + plotWidth / 2}" y="${height - 8}" text-anchor="middle" fill="#555">${escapeXml(unit)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
