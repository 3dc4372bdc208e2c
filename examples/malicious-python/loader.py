# Defanged example: a payload hidden behind base64 and exec. The payload only prints.
import base64

exec(base64.b64decode("cHJpbnQoImRlZmFuZ2VkIGV4YW1wbGUgcGF5bG9hZCIp"))
