apt_install redis-server
