// SYNTHETIC, DEFANGED malwi validation sample - modelled on packages that plant an SSH key in authorized_keys (2022-2025); never run.
'use strict';
function parse(text) {
  const hosts = [];
  let cur = null;
  for (const raw of String(text).split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [key, ...rest] = line.split(/\s+/);
    if (/^host$/i.test(key)) hosts.push((cur = { Host: rest.join(' ') }));
    else if (cur) cur[key] = rest.join(' ');
  }
  return hosts;
}
module.exports = { parse };
