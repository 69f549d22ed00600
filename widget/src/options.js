// The embed snippet's data-* options, with safe defaults.

export const DEFAULTS = Object.freeze({
  title: "ITB parents' assistant",
  color: "#00558c",
});

/** Text on the widget's coloured parts is white; WCAG AA needs 4.5:1 against it. */
const MIN_CONTRAST_WITH_WHITE = 4.5;

/**
 * @param {DOMStringMap} data  the script tag's dataset
 * @param {string} scriptUrl   where itb-chat.js was loaded from; its origin is the default server
 */
export function readOptions(data, scriptUrl) {
  return {
    server: data.server || new URL(scriptUrl, window.location.href).origin,
    title: data.title || DEFAULTS.title,
    color: readableColor(data.color),
    open: data.open === "true",
  };
}

function readableColor(color) {
  if (!color) return DEFAULTS.color;
  const rgb = parseHex(color);
  if (rgb && contrastWithWhite(rgb) >= MIN_CONTRAST_WITH_WHITE) return color;
  console.warn(`itb-chat: data-color ${color} is not a #rrggbb colour with 4.5:1 contrast to white; using ${DEFAULTS.color}`);
  return DEFAULTS.color;
}

function parseHex(color) {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color.trim());
  return match ? match.slice(1).map((part) => parseInt(part, 16) / 255) : null;
}

function contrastWithWhite(rgb) {
  const [r, g, b] = rgb.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return 1.05 / (luminance + 0.05);
}
