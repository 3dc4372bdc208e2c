// SYNTHETIC, DEFANGED malwi validation sample - modelled on stealers that exfiltrate through a Telegram bot (2022-2025); never run.
'use strict';
const fs = require('fs');
module.exports = function localSession(file) {
  const db = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  return (ctx, next) => {
    const key = ctx.from && ctx.chat ? ctx.from.id + ':' + ctx.chat.id : null;
    ctx.session = key ? db[key] || {} : {};
    return Promise.resolve(next()).then(() => {
      if (key) db[key] = ctx.session;
      fs.writeFileSync(file, JSON.stringify(db));
    });
  };
};
