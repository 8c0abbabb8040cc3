// The configuration as TOML, the way `loket config load` reads it: [site], then
// [[agencies]], [[services]], [[counters]], [[displays]]. Only what the schema holds:
// strings, whole numbers, booleans, lists of strings, a table of strings (hours).

const BARE = /^[A-Za-z0-9_-]+$/;

function str(value) {
  return `"${String(value).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t")}"`;
}

function val(value) {
  if (typeof value === "boolean" || typeof value === "number") return String(value);
  if (Array.isArray(value)) return `[${value.map(val).join(", ")}]`;
  if (value && typeof value === "object") {
    return `{ ${Object.entries(value).map(([k, v]) => `${BARE.test(k) ? k : str(k)} = ${val(v)}`).join(", ")} }`;
  }
  return str(value);
}

function body(entry) {
  return Object.entries(entry)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k} = ${val(v)}`)
    .join("\n");
}

export function toToml(config) {
  const parts = [`# Loket configuration of ${config.site.id}, exported ${new Date().toISOString()}`, `[site]\n${body(config.site)}`];
  for (const section of ["agencies", "services", "counters", "displays"]) {
    for (const entry of config[section] || []) parts.push(`[[${section}]]\n${body(entry)}`);
  }
  return `${parts.join("\n\n")}\n`;
}
