// SYNTHETIC, DEFANGED malwi validation sample - modelled on @0xengine/xmlrpc long-lived cryptojacker (2023-2024); never run.
'use strict';
function serialize(value) {
  if (typeof value === 'number') return Number.isInteger(value) ? `<int>${value}</int>` : `<double>${value}</double>`;
  if (typeof value === 'boolean') return `<boolean>${value ? 1 : 0}</boolean>`;
  if (Array.isArray(value)) return `<array><data>${value.map((v) => `<value>${serialize(v)}</value>`).join('')}</data></array>`;
  if (value && typeof value === 'object') {
    return `<struct>${Object.entries(value).map(([k, v]) => `<member><name>${k}</name><value>${serialize(v)}</value></member>`).join('')}</struct>`;
  }
  return `<string>${String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;')}</string>`;
}
function methodCall(name, params) {
  return `<?xml version="1.0"?><methodCall><methodName>${name}</methodName><params>${params.map((p) => `<param><value>${serialize(p)}</value></param>`).join('')}</params></methodCall>`;
}
module.exports = { serialize, methodCall };
