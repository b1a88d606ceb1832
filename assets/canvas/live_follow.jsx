// Live numbers are pushed, not polled: while mounted, this asks the server to follow a record (onStart(id)) and,
// when unmounted, to stop (onStop(id)). No timer runs in the browser; the server sends the changes it is told of.
// The id is fresh per mount, so a stop that arrives after the next start (React StrictMode's double mount, a
// quick re-render) cannot end the newer follower (marketing_app/components/live_follow.py).
import { useEffect, useRef } from "react";

export function LiveFollow({ watch = "", onStart, onStop, id }) {
  const start = useRef(onStart);
  const stop = useRef(onStop);
  start.current = onStart;
  stop.current = onStop;
  useEffect(() => {
    if (!watch) return undefined;
    const id = `${watch}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 10)}`;
    if (start.current) start.current(id);
    return () => { if (stop.current) stop.current(id); };
  }, [watch]);
  return <span hidden id={id} data-live-follow={watch} />;
}
