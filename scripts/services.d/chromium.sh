# The dashboard's real-browser test (tests/TokenMetrics.AspNetCore.Tests/Dashboard) drives Debian's headless chromium
# through Playwright with ExecutablePath=/usr/bin/chromium (no browser download). fonts-liberation is only a Recommends
# of chromium, and test.sh installs without recommends: without it the screenshots have no readable text.
apt_install chromium fonts-liberation
