// SYNTHETIC, DEFANGED malwi validation sample - modelled on twilio-npm reverse shell (2020); never run.
module.exports = function twilio(accountSid, authToken) {
  return { accountSid: accountSid, authToken: authToken, messages: { create: function () { return Promise.resolve({}); } } };
};
