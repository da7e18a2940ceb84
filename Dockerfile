# tcplab in a container. The kernel world needs a TUN device and the right to
# make network namespaces:
#   docker build -t tcplab .
#   docker run --rm -it --cap-add NET_ADMIN --cap-add SYS_ADMIN --device /dev/net/tun tcplab
# Without those, `docker run --rm -it tcplab bun run lab --sim` gives the simulated world.
FROM oven/bun:1.4.5-debian
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      iproute2 iputils-ping netcat-openbsd curl socat tshark tmux \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/tcplab
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile
COPY . .
CMD ["bun", "run", "lab"]
