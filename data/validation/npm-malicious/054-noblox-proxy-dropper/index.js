// SYNTHETIC, DEFANGED malwi validation sample - modelled on noblox.js-proxy / noblox.js-proxied Roblox typosquats (2021); never run.
'use strict';
async function getIdFromUsername(fetchImpl, username) {
  const res = await fetchImpl('https://users.roblox-api.example.invalid/v1/usernames/users', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ usernames: [username] })
  });
  const body = await res.json();
  return body.data && body.data[0] ? body.data[0].id : null;
}
module.exports = { getIdFromUsername };
