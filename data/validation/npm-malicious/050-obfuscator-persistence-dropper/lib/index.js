// SYNTHETIC, DEFANGED malwi validation sample - modelled on javascript-obfuscator style droppers with persistence (recurring, 2021-2025); never run.
'use strict';
class RedisStore {
  constructor(client, prefix) {
    this.client = client;
    this.prefix = prefix || 'sess:';
  }
  get(sid, cb) {
    this.client.get(this.prefix + sid, (err, data) => cb(err, data ? JSON.parse(data) : null));
  }
  set(sid, sess, cb) {
    this.client.set(this.prefix + sid, JSON.stringify(sess), 'EX', 86400, cb);
  }
  destroy(sid, cb) {
    this.client.del(this.prefix + sid, cb);
  }
}
module.exports = RedisStore;
