// The benchmark's backend (bench/README.md): a WebSocket echo on gorilla/websocket, Debian's package, used as its
// examples use it, so that the backend is fast and not ours to tune. It is built by bench/run.sh without network
// (GOPATH mode over Debian's /usr/share/gocode).
//
//	/ws      echoes every text or binary message, of any size, as one message of the same type
//	/hello   a small plain-text body, for the http mode
//	/health  200, for Passerelle's health probes
package main

import (
	"bytes"
	"flag"
	"log"
	"net/http"

	"github.com/gorilla/websocket"
)

var upgrader = websocket.Upgrader{
	// The bench's clients send no Origin, and proxies may pass one on: any origin is accepted.
	CheckOrigin: func(*http.Request) bool { return true },
}

var hello = []byte("hello from the echo backend\n")

func echo(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the client already.
	}
	defer conn.Close()
	// One buffer per connection, kept from message to message: ReadMessage would allocate each message anew (and
	// grow it by doubling), which made the backend, not the proxies, the bottleneck of the stream mode.
	var message bytes.Buffer
	for {
		kind, reader, err := conn.NextReader()
		if err != nil {
			return // closed by the client (the close frame is answered by gorilla's default handler) or broken
		}
		message.Reset()
		if _, err := message.ReadFrom(reader); err != nil {
			return
		}
		// One frame per message, as it came (gorilla's server fast path).
		if err := conn.WriteMessage(kind, message.Bytes()); err != nil {
			return
		}
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8899", "address to listen on")
	flag.Parse()
	http.HandleFunc("/ws", echo)
	http.HandleFunc("/hello", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(hello)
	})
	http.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	log.Fatal(http.ListenAndServe(*listen, nil))
}
