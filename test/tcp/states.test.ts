import { describe, expect, test } from "bun:test";
import { EPOCH, instant, ms } from "../../src/clock/time.ts";
import { State } from "../../src/tcp/state.ts";
import { Tcb } from "../../src/tcp/tcb.ts";
import {
  closeWait,
  closing,
  established,
  finWait1,
  finWait2,
  lastAck,
  MSS,
  opts,
  out,
  seg,
  synReceived,
  synSent,
  text,
  timeWait,
} from "./helpers.ts";

// Convention: we are ISS 1000 (port 80), the peer ISS 5000 (port 49152).
// Compact output form: flags seq ack win len <options>.

describe("SYN-SENT (RFC 9293 §3.10.7.3)", () => {
  test("test_syn_sent_connect_sends_syn_with_mss", () => {
    const tcb = Tcb.connect(opts());
    expect(tcb.state).toBe(State.SynSent);
    // MSS, then window scale, SACK-permitted and timestamps (on by default, RFC 7323 / RFC 2018).
    expect(out(tcb)).toEqual([
      "S seq=1000 ack=0 win=65535 len=0 <mss 1460,nop,wscale 0,sackOK,TS val 1 ecr 0>",
    ]);
    expect(tcb.pollAt()).toBe(instant(1000));
  });

  test("test_syn_sent_syn_ack_establishes_and_acks", () => {
    const tcb = synSent();
    const seen: string[] = [];
    tcb.events = { established: () => seen.push("established") };
    tcb.input(seg({ flags: "SA", seq: 5000, ack: 1001, win: 30000, options: MSS }), instant(50));
    expect(tcb.state).toBe(State.Established);
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
    expect(seen).toEqual(["established"]);
    expect([tcb.sndUna, tcb.sndNxt, tcb.sndWnd, tcb.irs, tcb.rcvNxt]).toEqual([
      1001, 1001, 30000, 5000, 5001,
    ]);
    expect(tcb.srtt).toBe(ms(50)); // RFC 6298 §2.2: the SYN's RTT is the first sample
    expect(tcb.pollAt()).toBeUndefined();
  });

  test("test_syn_sent_syn_ack_without_mss_uses_536", () => {
    const tcb = synSent();
    tcb.input(seg({ flags: "SA", seq: 5000, ack: 1001 }), instant(10));
    expect(tcb.sndMss).toBe(536);
  });

  test("test_syn_sent_syn_ack_with_smaller_mss_is_honoured", () => {
    const tcb = synSent();
    tcb.input(
      seg({ flags: "SA", seq: 5000, ack: 1001, options: [{ kind: "mss", value: 1000 }] }),
      instant(10),
    );
    expect(tcb.sndMss).toBe(1000);
    tcb.takeOutput();
    tcb.setNoDelay(true);
    tcb.send(new Uint8Array(2500), instant(20));
    expect(out(tcb)).toEqual([
      "A seq=1001 ack=5001 win=65535 len=1000",
      "A seq=2001 ack=5001 win=65535 len=1000",
      "PA seq=3001 ack=5001 win=65535 len=500",
    ]);
  });

  test("test_syn_sent_ack_at_or_below_iss_gets_rst", () => {
    const tcb = synSent();
    tcb.input(seg({ flags: "SA", seq: 5000, ack: 1000 }), instant(10));
    expect(out(tcb)).toEqual(["R seq=1000 ack=0 win=0 len=0"]);
    expect(tcb.state).toBe(State.SynSent);
  });

  test("test_syn_sent_ack_beyond_snd_nxt_gets_rst", () => {
    const tcb = synSent();
    tcb.input(seg({ flags: "A", seq: 5000, ack: 1005 }), instant(10));
    expect(out(tcb)).toEqual(["R seq=1005 ack=0 win=0 len=0"]);
    expect(tcb.state).toBe(State.SynSent);
  });

  test("test_syn_sent_rst_with_acceptable_ack_is_refused", () => {
    const tcb = synSent();
    let err: string | undefined = "none";
    tcb.events = { closed: (_t, e) => (err = e) };
    tcb.input(seg({ flags: "RA", seq: 0, ack: 1001 }), instant(10));
    expect(tcb.state).toBe(State.Closed);
    expect(err).toBe("ECONNREFUSED");
    expect(out(tcb)).toEqual([]);
  });

  test("test_syn_sent_rst_without_ack_is_dropped", () => {
    const tcb = synSent();
    tcb.input(seg({ flags: "R", seq: 5000 }), instant(10));
    expect(tcb.state).toBe(State.SynSent);
    expect(out(tcb)).toEqual([]);
  });

  test("test_syn_sent_rst_with_bad_ack_is_dropped_silently", () => {
    const tcb = synSent();
    tcb.input(seg({ flags: "RA", seq: 0, ack: 999 }), instant(10));
    expect(tcb.state).toBe(State.SynSent);
    expect(out(tcb)).toEqual([]);
  });

  test("test_syn_sent_bare_ack_is_dropped", () => {
    const tcb = synSent();
    tcb.input(seg({ flags: "A", seq: 5000, ack: 1001 }), instant(10));
    expect(tcb.state).toBe(State.SynSent);
    expect(out(tcb)).toEqual([]);
  });

  test("test_syn_sent_syn_is_simultaneous_open", () => {
    const tcb = synSent();
    tcb.input(seg({ flags: "S", seq: 5000, options: MSS }), instant(10));
    expect(tcb.state).toBe(State.SynReceived);
    expect(out(tcb)).toEqual(["SA seq=1000 ack=5001 win=65535 len=0 <mss 1460>"]);
    tcb.input(seg({ flags: "SA", seq: 5000, ack: 1001 }), instant(20)); // the peer's SYN-ACK: an old SYN → ACK
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001 }), instant(20));
    expect(tcb.state).toBe(State.Established);
  });

  test("test_syn_sent_syn_ack_with_data_delivers_it", () => {
    const tcb = synSent();
    tcb.input(
      seg({ flags: "SA", seq: 5000, ack: 1001, payload: "hello", options: MSS }),
      instant(10),
    );
    expect(tcb.state).toBe(State.Established);
    expect(out(tcb)).toEqual(["A seq=1001 ack=5006 win=65530 len=0"]);
    expect(text(tcb.recv(100, instant(10)))).toBe("hello");
  });

  test("test_syn_sent_close_just_closes", () => {
    const tcb = synSent();
    tcb.close(instant(10));
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBeUndefined();
    expect(out(tcb)).toEqual([]);
    expect(tcb.pollAt()).toBeUndefined();
  });

  test("test_syn_sent_data_written_before_establishment_goes_after_handshake", () => {
    const tcb = synSent();
    expect(tcb.send(new TextEncoder().encode("early"), instant(1))).toBe(5);
    expect(out(tcb)).toEqual([]);
    tcb.input(seg({ flags: "SA", seq: 5000, ack: 1001, options: MSS }), instant(10));
    expect(out(tcb)).toEqual(["PA seq=1001 ack=5001 win=65535 len=5"]);
  });
});

describe("SYN-RECEIVED (passive open)", () => {
  test("test_syn_received_accept_sends_syn_ack", () => {
    const tcb = Tcb.accept({
      ...opts(),
      syn: seg({ flags: "S", seq: 5000, win: 8192, options: MSS }),
    });
    expect(tcb.state).toBe(State.SynReceived);
    expect(out(tcb)).toEqual(["SA seq=1000 ack=5001 win=65535 len=0 <mss 1460>"]);
    expect(tcb.sndMss).toBe(1460);
  });

  test("test_syn_received_ack_establishes", () => {
    const tcb = synReceived();
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, win: 20000 }), instant(30));
    expect(tcb.state).toBe(State.Established);
    expect(tcb.sndWnd).toBe(20000);
    expect(out(tcb)).toEqual([]);
  });

  test("test_syn_received_unacceptable_ack_gets_rst", () => {
    for (const ack of [1000, 1002, 900_000]) {
      const tcb = synReceived();
      tcb.input(seg({ flags: "A", seq: 5001, ack }), instant(30));
      expect(out(tcb)).toEqual([`R seq=${ack} ack=0 win=0 len=0`]);
      expect(tcb.state).toBe(State.SynReceived);
    }
  });

  test("test_syn_received_rst_returns_to_listen_quietly", () => {
    const tcb = synReceived();
    tcb.input(seg({ flags: "R", seq: 5001 }), instant(30));
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBeUndefined();
    expect(out(tcb)).toEqual([]);
  });

  test("test_syn_received_rst_in_window_not_exact_gets_challenge_ack", () => {
    const tcb = synReceived();
    tcb.input(seg({ flags: "R", seq: 5100 }), instant(30));
    expect(tcb.state).toBe(State.SynReceived);
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
  });

  test("test_syn_received_duplicate_syn_resends_syn_ack", () => {
    const tcb = synReceived();
    tcb.input(seg({ flags: "S", seq: 5000, options: MSS }), instant(30));
    expect(out(tcb)).toEqual(["SA seq=1000 ack=5001 win=65535 len=0 <mss 1460>"]);
    expect(tcb.state).toBe(State.SynReceived);
  });

  test("test_syn_received_new_syn_in_window_returns_to_listen", () => {
    const tcb = synReceived();
    tcb.input(seg({ flags: "S", seq: 5100 }), instant(30));
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBeUndefined();
  });

  test("test_syn_received_ack_with_data_establishes_and_delivers", () => {
    const tcb = synReceived();
    tcb.input(seg({ flags: "PA", seq: 5001, ack: 1001, payload: "hi" }), instant(30));
    expect(tcb.state).toBe(State.Established);
    expect(text(tcb.peek(10))).toBe("hi");
    expect(tcb.timers()).toEqual([{ name: "delayed-ack", deadline: instant(230) }]);
  });

  test("test_syn_received_fin_with_ack_goes_to_close_wait", () => {
    const tcb = synReceived();
    tcb.input(seg({ flags: "FA", seq: 5001, ack: 1001 }), instant(30));
    expect(tcb.state).toBe(State.CloseWait);
    expect(out(tcb)).toEqual(["A seq=1001 ack=5002 win=65535 len=0"]);
  });

  test("test_syn_received_segment_without_ack_is_dropped", () => {
    const tcb = synReceived();
    tcb.input(seg({ flags: "P", seq: 5001, payload: "x" }), instant(30));
    expect(tcb.state).toBe(State.SynReceived);
    expect(out(tcb)).toEqual([]);
    expect(tcb.recvAvailable).toBe(0);
  });

  test("test_syn_received_out_of_window_gets_ack", () => {
    const tcb = synReceived();
    tcb.input(seg({ flags: "A", seq: 5001 + 70000, ack: 1001 }), instant(30));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
  });

  test("test_syn_received_close_sends_fin", () => {
    const tcb = synReceived();
    tcb.close(instant(30));
    expect(tcb.state).toBe(State.FinWait1);
    expect(out(tcb)).toEqual(["FA seq=1001 ack=5001 win=65535 len=0"]);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1002 }), instant(40));
    expect(tcb.state).toBe(State.FinWait2);
  });
});

describe("ESTABLISHED: sequence number check (§3.10.7.4 first)", () => {
  test("test_established_in_order_data_delayed_ack", () => {
    const tcb = established();
    tcb.input(seg({ flags: "PA", seq: 5001, ack: 1001, payload: "hello" }), instant(10));
    expect(out(tcb)).toEqual([]);
    expect(tcb.pollAt()).toBe(instant(210));
    tcb.onTimer(instant(210));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5006 win=65530 len=0"]);
    expect(text(tcb.recv(100, instant(220)))).toBe("hello");
  });

  test("test_established_second_full_segment_acked_at_once", () => {
    const tcb = established();
    tcb.input(
      seg({ flags: "A", seq: 5001, ack: 1001, payload: new Uint8Array(1460) }),
      instant(10),
    );
    expect(out(tcb)).toEqual([]);
    tcb.input(
      seg({ flags: "A", seq: 6461, ack: 1001, payload: new Uint8Array(1460) }),
      instant(11),
    );
    expect(out(tcb)).toEqual(["A seq=1001 ack=7921 win=62615 len=0"]);
    expect(tcb.pollAt()).toBeUndefined();
  });

  test("test_established_out_of_order_acked_at_once_then_hole_fill", () => {
    const tcb = established();
    tcb.input(seg({ flags: "A", seq: 5006, ack: 1001, payload: "world" }), instant(10));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
    expect(tcb.recvAvailable).toBe(0);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, payload: "hello" }), instant(20));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5011 win=65525 len=0"]);
    expect(text(tcb.recv(100, instant(20)))).toBe("helloworld");
  });

  test("test_established_old_duplicate_gets_ack", () => {
    const tcb = established();
    tcb.input(seg({ flags: "A", seq: 4990, ack: 1001, payload: "0123456789" }), instant(10));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
    expect(tcb.recvAvailable).toBe(0);
  });

  test("test_established_partly_old_segment_is_trimmed", () => {
    const tcb = established();
    tcb.input(seg({ flags: "A", seq: 4996, ack: 1001, payload: "0123456789" }), instant(10));
    expect(text(tcb.recv(100, instant(10)))).toBe("56789");
    expect(tcb.rcvNxt).toBe(5006);
  });

  test("test_established_segment_beyond_window_gets_ack", () => {
    const tcb = established();
    tcb.input(seg({ flags: "A", seq: 5001 + 65535, ack: 1001, payload: "x" }), instant(10));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
  });

  test("test_established_segment_at_right_edge_is_trimmed", () => {
    const tcb = established();
    tcb.input(
      seg({ flags: "A", seq: 5001 + 65530, ack: 1001, payload: "0123456789" }),
      instant(10),
    );
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
    expect(tcb.reassembly.bytes).toBe(5);
  });

  test("test_established_empty_ack_at_window_edges", () => {
    const tcb = established();
    tcb.input(seg({ flags: "A", seq: 5001 + 65534, ack: 1001 }), instant(10)); // last in-window seq: acceptable
    expect(out(tcb)).toEqual([]);
    tcb.input(seg({ flags: "A", seq: 5000, ack: 1001 }), instant(10)); // one before RCV.NXT
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
  });

  test("test_established_segment_without_ack_is_dropped", () => {
    const tcb = established();
    tcb.input(seg({ flags: "P", seq: 5001, payload: "data" }), instant(10));
    expect(out(tcb)).toEqual([]);
    expect(tcb.recvAvailable).toBe(0);
  });

  test("test_established_urgent_data_is_plain_data", () => {
    const tcb = established();
    tcb.input(seg({ flags: "UA", seq: 5001, ack: 1001, payload: "urgent", urg: 3 }), instant(10));
    expect(text(tcb.recv(100, instant(10)))).toBe("urgent");
  });
});

describe("ESTABLISHED: RST and SYN (RFC 5961)", () => {
  test("test_established_rst_exact_resets", () => {
    const tcb = established();
    let err: string | undefined;
    tcb.events = { closed: (_t, e) => (err = e) };
    tcb.input(seg({ flags: "R", seq: 5001 }), instant(10));
    expect(tcb.state).toBe(State.Closed);
    expect(err).toBe("ECONNRESET");
    expect(out(tcb)).toEqual([]);
    expect(tcb.send(new Uint8Array(1), instant(11))).toBe("ECONNRESET");
  });

  test("test_established_rst_in_window_gets_challenge_ack", () => {
    const tcb = established();
    tcb.input(seg({ flags: "R", seq: 5100 }), instant(10));
    expect(tcb.state).toBe(State.Established);
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
  });

  test("test_established_rst_out_of_window_is_dropped", () => {
    const tcb = established();
    tcb.input(seg({ flags: "R", seq: 5001 + 70000 }), instant(10));
    tcb.input(seg({ flags: "R", seq: 4000 }), instant(10));
    expect(tcb.state).toBe(State.Established);
    expect(out(tcb)).toEqual([]);
  });

  test("test_established_rst_in_window_without_rfc5961_resets", () => {
    const tcb = established({ rfc5961: false });
    tcb.input(seg({ flags: "R", seq: 5100 }), instant(10));
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBe("ECONNRESET");
  });

  test("test_established_syn_gets_challenge_ack", () => {
    const tcb = established();
    tcb.input(seg({ flags: "S", seq: 5100 }), instant(10));
    // Out of window, past this connection's own limit (one per 500 ms): still a challenge ACK.
    tcb.input(seg({ flags: "S", seq: 9_999_999 }), instant(510));
    expect(out(tcb)).toEqual([
      "A seq=1001 ack=5001 win=65535 len=0",
      "A seq=1001 ack=5001 win=65535 len=0",
    ]);
    expect(tcb.state).toBe(State.Established);
  });

  test("test_established_syn_without_rfc5961_resets", () => {
    const tcb = established({ rfc5961: false });
    tcb.input(seg({ flags: "S", seq: 5100 }), instant(10));
    expect(out(tcb)).toEqual(["RA seq=0 ack=5101 win=0 len=0"]);
    expect(tcb.error).toBe("ECONNRESET");
  });

  test("test_established_challenge_acks_are_rate_limited", () => {
    // The host-wide limit alone: this connection's own limit is lifted.
    const tcb = established({
      challengeAckLimit: 2,
      challengeAckPerConnection: 0,
    });
    for (let i = 0; i < 5; i++) tcb.input(seg({ flags: "R", seq: 5100 + i }), instant(100 + i));
    expect(out(tcb)).toHaveLength(2);
    tcb.input(seg({ flags: "R", seq: 5200 }), instant(1100));
    expect(out(tcb)).toHaveLength(1);
    expect(tcb.challengeLimiter.suppressed).toBe(3);
  });

  test("test_established_challenge_acks_limited_per_connection", () => {
    // Linux's tcp_invalid_ratelimit: one challenge ACK per 500 ms per
    // connection, whatever the host's budget has left.
    const tcb = established({ challengeAckLimit: 1000 });
    for (let i = 0; i < 5; i++) tcb.input(seg({ flags: "R", seq: 5100 + i }), instant(100 + i));
    expect(out(tcb)).toHaveLength(1);
    expect(tcb.challengeAcksLimited).toBe(4);
    tcb.input(seg({ flags: "R", seq: 5200 }), instant(600));
    expect(out(tcb)).toHaveLength(1);
    expect(tcb.challengeLimiter.suppressed).toBe(0);
  });
});

describe("ESTABLISHED: ACK processing (§3.10.7.4 fifth)", () => {
  function withData(n = 100) {
    const tcb = established();
    tcb.setNoDelay(true);
    tcb.send(new Uint8Array(n), instant(10));
    tcb.takeOutput();
    return tcb;
  }

  test("test_established_ack_of_new_data_advances_snd_una", () => {
    const tcb = withData();
    let writable = 0;
    tcb.events = { writable: () => writable++ };
    expect(tcb.pollAt()).toBe(instant(1010));
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1051 }), instant(60));
    expect(tcb.sndUna).toBe(1051);
    expect(tcb.sendQueued).toBe(50);
    expect(writable).toBe(1);
    expect(tcb.pollAt()).toBe(instant(60 + tcb.rto)); // RFC 6298 §5.3: restarted
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1101 }), instant(70));
    expect(tcb.pollAt()).toBeUndefined(); // §5.2: all acknowledged
  });

  test("test_established_ack_of_unsent_data_gets_ack", () => {
    for (const rfc5961 of [true, false]) {
      const tcb = established({ rfc5961 });
      tcb.input(seg({ flags: "A", seq: 5001, ack: 2000 }), instant(10));
      expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
      expect(tcb.sndUna).toBe(1001);
    }
  });

  test("test_established_ack_with_data_of_unsent_is_dropped", () => {
    const tcb = established();
    tcb.input(seg({ flags: "PA", seq: 5001, ack: 2000, payload: "x" }), instant(10));
    expect(tcb.recvAvailable).toBe(0);
  });

  test("test_established_ack_too_old_rfc5961_challenge", () => {
    const tcb = established();
    tcb.input(seg({ flags: "A", seq: 5001, ack: (1001 - 70000) >>> 0 }), instant(10));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
    const plain = established({ rfc5961: false });
    plain.input(seg({ flags: "A", seq: 5001, ack: (1001 - 70000) >>> 0 }), instant(10));
    expect(out(plain)).toEqual([]); // a duplicate ACK: ignored
  });

  test("test_established_window_update_rules", () => {
    const tcb = withData();
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1051, win: 1000 }), instant(20));
    expect([tcb.sndWnd, tcb.sndWl1, tcb.sndWl2]).toEqual([1000, 5001, 1051]);
    // An older ACK (SND.WL2 > SEG.ACK) does not set the window.
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1040, win: 5000 }), instant(21));
    expect(tcb.sndWnd).toBe(1000);
    // Same ACK, same seq: updates (SND.WL2 ≤ SEG.ACK).
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1051, win: 2000 }), instant(22));
    expect(tcb.sndWnd).toBe(2000);
    expect(tcb.maxSndWnd).toBe(65535);
  });

  // RFC 5681 §3.2: below DupThresh (3) a duplicate ACK acknowledges nothing and,
  // with nothing new to send (limited transmit has nothing to offer), sends nothing.
  test("test_established_two_duplicate_acks_below_dupthresh_send_nothing_new", () => {
    const tcb = withData();
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001 }), instant(20));
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001 }), instant(21));
    expect(out(tcb)).toEqual([]);
    expect(tcb.sndUna).toBe(1001);
  });
});

describe("ESTABLISHED: sending, Nagle, FIN", () => {
  test("test_established_send_and_nagle", () => {
    const tcb = established();
    tcb.send(new TextEncoder().encode("abc"), instant(10));
    expect(out(tcb)).toEqual(["PA seq=1001 ack=5001 win=65535 len=3"]);
    tcb.send(new TextEncoder().encode("def"), instant(11));
    expect(out(tcb)).toEqual([]); // Nagle: a small segment waits for the ACK
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1004 }), instant(40));
    expect(out(tcb)).toEqual(["PA seq=1004 ack=5001 win=65535 len=3"]);
  });

  test("test_established_no_delay_sends_at_once", () => {
    const tcb = established();
    tcb.setNoDelay(true);
    tcb.send(new TextEncoder().encode("abc"), instant(10));
    tcb.send(new TextEncoder().encode("def"), instant(11));
    expect(out(tcb)).toEqual([
      "PA seq=1001 ack=5001 win=65535 len=3",
      "PA seq=1004 ack=5001 win=65535 len=3",
    ]);
  });

  test("test_established_full_segments_go_tail_waits_for_nagle", () => {
    const tcb = established();
    tcb.send(new Uint8Array(4000), instant(10));
    expect(out(tcb)).toEqual([
      "A seq=1001 ack=5001 win=65535 len=1460",
      "A seq=2461 ack=5001 win=65535 len=1460",
    ]);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 3921 }), instant(40));
    expect(out(tcb)).toEqual(["PA seq=3921 ack=5001 win=65535 len=1080"]);
  });

  test("test_established_data_piggybacks_pending_ack", () => {
    const tcb = established();
    tcb.input(seg({ flags: "PA", seq: 5001, ack: 1001, payload: "ping" }), instant(10));
    expect(tcb.pollAt()).toBe(instant(210));
    tcb.send(new TextEncoder().encode("pong"), instant(20));
    expect(out(tcb)).toEqual(["PA seq=1001 ack=5005 win=65531 len=4"]);
    expect(tcb.timers().map((t) => t.name)).toEqual(["retransmission"]);
  });

  test("test_established_fin_goes_to_close_wait", () => {
    const tcb = established();
    const states: string[] = [];
    tcb.events = { stateChanged: (_t, _f, to) => states.push(State[to]) };
    tcb.input(seg({ flags: "FA", seq: 5001, ack: 1001 }), instant(10));
    expect(tcb.state).toBe(State.CloseWait);
    expect(out(tcb)).toEqual(["A seq=1001 ack=5002 win=65535 len=0"]);
    expect(tcb.peerClosed).toBe(true);
    expect(states).toEqual(["CloseWait"]);
  });

  test("test_established_data_and_fin_delivers_then_eof", () => {
    const tcb = established();
    tcb.input(seg({ flags: "FPA", seq: 5001, ack: 1001, payload: "bye" }), instant(10));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5005 win=65532 len=0"]);
    expect(tcb.peerClosed).toBe(false);
    expect(text(tcb.recv(10, instant(10)))).toBe("bye");
    expect(tcb.peerClosed).toBe(true);
  });

  test("test_established_fin_out_of_order_waits_for_gap", () => {
    const tcb = established();
    tcb.input(seg({ flags: "FA", seq: 5006, ack: 1001, payload: "world" }), instant(10));
    expect(tcb.state).toBe(State.Established);
    expect(out(tcb)).toEqual(["A seq=1001 ack=5001 win=65535 len=0"]);
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1001, payload: "hello" }), instant(20));
    expect(tcb.state).toBe(State.CloseWait);
    expect(out(tcb)).toEqual(["A seq=1001 ack=5012 win=65525 len=0"]);
    expect(text(tcb.recv(100, instant(20)))).toBe("helloworld");
  });

  test("test_established_abort_sends_rst", () => {
    const tcb = established();
    tcb.abort(instant(10));
    expect(out(tcb)).toEqual(["R seq=1001 ack=0 win=0 len=0"]);
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBe("ECONNABORTED");
  });

  test("test_established_close_with_queued_data_piggybacks_fin", () => {
    const tcb = established();
    tcb.send(new TextEncoder().encode("abc"), instant(10));
    tcb.send(new TextEncoder().encode("def"), instant(11)); // held by Nagle
    tcb.close(instant(12));
    expect(tcb.state).toBe(State.FinWait1);
    expect(out(tcb)).toEqual([
      "PA seq=1001 ack=5001 win=65535 len=3",
      "FPA seq=1004 ack=5001 win=65535 len=3",
    ]);
    expect(tcb.send(new Uint8Array(1), instant(13))).toBe("EPIPE");
  });
});

describe("FIN-WAIT-1", () => {
  test("test_fin_wait_1_close_sent_fin", () => {
    const tcb = established();
    tcb.close(EPOCH);
    expect(tcb.state).toBe(State.FinWait1);
    expect(out(tcb)).toEqual(["FA seq=1001 ack=5001 win=65535 len=0"]);
  });

  test("test_fin_wait_1_ack_of_fin_goes_to_fin_wait_2", () => {
    const tcb = finWait1();
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1002 }), instant(10));
    expect(tcb.state).toBe(State.FinWait2);
    expect(tcb.pollAt()).toBeUndefined();
  });

  test("test_fin_wait_1_ack_not_covering_fin_stays", () => {
    const tcb = established();
    tcb.send(new Uint8Array(10), EPOCH);
    tcb.close(EPOCH);
    tcb.takeOutput();
    tcb.input(seg({ flags: "A", seq: 5001, ack: 1011 }), instant(10));
    expect(tcb.state).toBe(State.FinWait1);
  });

  test("test_fin_wait_1_fin_is_simultaneous_close", () => {
    const tcb = finWait1();
    tcb.input(seg({ flags: "FA", seq: 5001, ack: 1001 }), instant(10));
    expect(tcb.state).toBe(State.Closing);
    expect(out(tcb)).toEqual(["A seq=1002 ack=5002 win=65535 len=0"]);
  });

  test("test_fin_wait_1_fin_with_ack_of_our_fin_goes_to_time_wait", () => {
    const tcb = finWait1();
    tcb.input(seg({ flags: "FA", seq: 5001, ack: 1002 }), instant(10));
    expect(tcb.state).toBe(State.TimeWait);
    expect(out(tcb)).toEqual(["A seq=1002 ack=5002 win=65535 len=0"]);
    expect(tcb.timers()).toEqual([{ name: "time-wait", deadline: instant(60_010) }]);
  });

  test("test_fin_wait_1_data_is_received", () => {
    const tcb = finWait1();
    tcb.input(seg({ flags: "PA", seq: 5001, ack: 1001, payload: "late" }), instant(10));
    expect(text(tcb.recv(10, instant(10)))).toBe("late");
  });

  test("test_fin_wait_1_rst_resets", () => {
    const tcb = finWait1();
    tcb.input(seg({ flags: "R", seq: 5001 }), instant(10));
    expect(tcb.error).toBe("ECONNRESET");
  });

  test("test_fin_wait_1_fin_retransmitted_on_timeout", () => {
    const tcb = finWait1();
    tcb.onTimer(instant(1000));
    expect(out(tcb)).toEqual(["FA seq=1001 ack=5001 win=65535 len=0"]);
    expect(tcb.retransmissions).toBe(1);
  });
});

describe("FIN-WAIT-2", () => {
  test("test_fin_wait_2_receives_data_half_close", () => {
    const tcb = finWait2();
    tcb.input(seg({ flags: "PA", seq: 5001, ack: 1002, payload: "more" }), instant(10));
    expect(text(tcb.recv(10, instant(10)))).toBe("more");
    expect(tcb.send(new Uint8Array(1), instant(10))).toBe("EPIPE");
  });

  test("test_fin_wait_2_fin_goes_to_time_wait", () => {
    const tcb = finWait2();
    tcb.input(seg({ flags: "FA", seq: 5001, ack: 1002 }), instant(10));
    expect(tcb.state).toBe(State.TimeWait);
    expect(out(tcb)).toEqual(["A seq=1002 ack=5002 win=65535 len=0"]);
    expect(tcb.pollAt()).toBe(instant(60_010));
  });

  test("test_fin_wait_2_syn_gets_challenge_ack", () => {
    const tcb = finWait2();
    tcb.input(seg({ flags: "S", seq: 5100 }), instant(10));
    expect(out(tcb)).toEqual(["A seq=1002 ack=5001 win=65535 len=0"]);
  });
});

describe("CLOSE-WAIT", () => {
  test("test_close_wait_can_still_send", () => {
    const tcb = closeWait();
    tcb.send(new TextEncoder().encode("reply"), instant(10));
    expect(out(tcb)).toEqual(["PA seq=1001 ack=5002 win=65535 len=5"]);
  });

  test("test_close_wait_close_sends_fin_last_ack", () => {
    const tcb = closeWait();
    tcb.close(instant(10));
    expect(tcb.state).toBe(State.LastAck);
    expect(out(tcb)).toEqual(["FA seq=1001 ack=5002 win=65535 len=0"]);
  });

  test("test_close_wait_retransmitted_fin_gets_ack", () => {
    const tcb = closeWait();
    tcb.input(seg({ flags: "FA", seq: 5001, ack: 1001 }), instant(10));
    expect(out(tcb)).toEqual(["A seq=1001 ack=5002 win=65535 len=0"]);
    expect(tcb.state).toBe(State.CloseWait);
  });

  test("test_close_wait_rst_resets", () => {
    const tcb = closeWait();
    tcb.input(seg({ flags: "R", seq: 5002 }), instant(10));
    expect(tcb.error).toBe("ECONNRESET");
  });
});

describe("LAST-ACK", () => {
  test("test_last_ack_ack_of_fin_closes", () => {
    const tcb = lastAck();
    let closed: string | undefined = "not yet";
    tcb.events = { closed: (_t, e) => (closed = e) };
    tcb.input(seg({ flags: "A", seq: 5002, ack: 1002 }), instant(10));
    expect(tcb.state).toBe(State.Closed);
    expect(closed).toBeUndefined();
    expect(out(tcb)).toEqual([]);
  });

  test("test_last_ack_old_ack_stays", () => {
    const tcb = lastAck();
    tcb.input(seg({ flags: "A", seq: 5002, ack: 1001 }), instant(10));
    expect(tcb.state).toBe(State.LastAck);
  });

  test("test_last_ack_rst_closes_without_error", () => {
    const tcb = lastAck();
    tcb.input(seg({ flags: "R", seq: 5002 }), instant(10));
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBeUndefined();
  });

  test("test_last_ack_fin_retransmitted", () => {
    const tcb = lastAck();
    tcb.onTimer(instant(1000));
    expect(out(tcb)).toEqual(["FA seq=1001 ack=5002 win=65535 len=0"]);
  });
});

describe("CLOSING", () => {
  test("test_closing_ack_of_fin_goes_to_time_wait", () => {
    const tcb = closing();
    tcb.input(seg({ flags: "A", seq: 5002, ack: 1002 }), instant(10));
    expect(tcb.state).toBe(State.TimeWait);
    expect(tcb.pollAt()).toBe(instant(60_010));
  });

  test("test_closing_retransmitted_fin_gets_ack", () => {
    const tcb = closing();
    tcb.input(seg({ flags: "FA", seq: 5001, ack: 1001 }), instant(10));
    expect(out(tcb)).toEqual(["A seq=1002 ack=5002 win=65535 len=0"]);
    expect(tcb.state).toBe(State.Closing);
  });
});

describe("TIME-WAIT", () => {
  test("test_time_wait_expires_after_2msl", () => {
    const tcb = timeWait();
    let closed: string | undefined = "not yet";
    tcb.events = { closed: (_t, e) => (closed = e) };
    expect(tcb.pollAt()).toBe(instant(60_000));
    tcb.onTimer(instant(59_999));
    expect(tcb.state).toBe(State.TimeWait);
    tcb.onTimer(instant(60_000));
    expect(tcb.state).toBe(State.Closed);
    expect(closed).toBeUndefined();
  });

  test("test_time_wait_retransmitted_fin_reacked_and_timer_restarted", () => {
    const tcb = timeWait();
    tcb.input(seg({ flags: "FA", seq: 5001, ack: 1002 }), instant(20_000));
    expect(out(tcb)).toEqual(["A seq=1002 ack=5002 win=65535 len=0"]);
    expect(tcb.pollAt()).toBe(instant(80_000));
    expect(tcb.state).toBe(State.TimeWait);
  });

  test("test_time_wait_syn_gets_challenge_ack", () => {
    const tcb = timeWait({ timeWaitReopen: false }); // reopening is a switch (personality-switches)
    tcb.input(seg({ flags: "S", seq: 5100 }), instant(10));
    expect(out(tcb)).toEqual(["A seq=1002 ack=5002 win=65535 len=0"]);
    expect(tcb.state).toBe(State.TimeWait);
  });

  test("test_time_wait_rst_closes", () => {
    const tcb = timeWait();
    tcb.input(seg({ flags: "R", seq: 5002 }), instant(10));
    expect(tcb.state).toBe(State.Closed);
    expect(tcb.error).toBeUndefined();
  });
});

describe("CLOSED", () => {
  test("test_closed_input_is_ignored", () => {
    const tcb = established();
    tcb.abort(EPOCH);
    tcb.takeOutput();
    tcb.input(seg({ flags: "PA", seq: 5001, ack: 1001, payload: "x" }), instant(10));
    expect(out(tcb)).toEqual([]);
    expect(tcb.pollAt()).toBeUndefined();
  });
});
