import type { RoundTripStats } from './report.js';

/** A round trip in progress: what it has realised and paid so far. */
interface OpenTrip {
  realized: number;
  fees: number;
}

/**
 * One strategy's round trips, per instrument. A trip opens when the position
 * leaves 0 and closes when it returns to 0; a fill that flips the sign closes
 * the trip (all of the fill's realised P&L belongs to it) and opens the next
 * with the excess. A flip's fee is split by quantity: |closed| / quantity of
 * it to the closing trip, the rest to the new one. A trip's P&L is its
 * realised P&L minus its fees; > 0 wins, < 0 loses, exactly 0 is neither.
 */
export class RoundTrips {
  readonly #open = new Map<number, OpenTrip>();
  #closed = 0;
  #winning = 0;
  #losing = 0;

  /**
   * One fill, after the portfolio applied it: the instrument's quantity
   * before (`q0`) and after (`q1`), the P&L it realised, its quantity and fee.
   */
  record(instrument: number, q0: number, q1: number, realized: number, quantity: number, fee: number): void {
    if (q0 === 0) {
      if (q1 !== 0) this.#open.set(instrument, { realized, fees: fee });
      return;
    }
    const trip = this.#open.get(instrument);
    if (trip === undefined) throw new Error(`round trips: no open trip for instrument ${instrument} at quantity ${q0} (a bug)`);
    trip.realized += realized;
    if (q1 !== 0 && Math.sign(q1) === Math.sign(q0)) {
      trip.fees += fee;
      return;
    }
    // Back to flat, or through it: the closing part of the fee is |q0| of `quantity`.
    const closingFee = q1 === 0 ? fee : (fee * Math.abs(q0)) / quantity;
    trip.fees += closingFee;
    this.#close(trip);
    this.#open.delete(instrument);
    if (q1 !== 0) this.#open.set(instrument, { realized: 0, fees: fee - closingFee });
  }

  stats(): RoundTripStats {
    return {
      closed: this.#closed,
      winning: this.#winning,
      losing: this.#losing,
      open: this.#open.size,
      win_rate: this.#closed > 0 ? this.#winning / this.#closed : null,
    };
  }

  #close(trip: OpenTrip): void {
    const pnl = trip.realized - trip.fees;
    this.#closed++;
    if (pnl > 0) this.#winning++;
    else if (pnl < 0) this.#losing++;
  }
}

/** Round-trip counts added up (the total over strategies). */
export function sumRoundTrips(all: readonly RoundTripStats[]): RoundTripStats {
  let closed = 0;
  let winning = 0;
  let losing = 0;
  let open = 0;
  for (const s of all) {
    closed += s.closed;
    winning += s.winning;
    losing += s.losing;
    open += s.open;
  }
  return { closed, winning, losing, open, win_rate: closed > 0 ? winning / closed : null };
}
