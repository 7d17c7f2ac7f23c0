// libzmq (Debian's libzmq3-dev, 4.3.4, built with libsodium so CURVE works).
#include <zmq.h>
