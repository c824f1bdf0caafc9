package run

import "sync"

// syncMap memoizes the results of a function of a string; it is safe for
// concurrent use.
type syncMap[V any] struct {
	mu sync.Mutex
	m  map[string]syncEntry[V]
}

type syncEntry[V any] struct {
	v   V
	err error
}

// get returns f(key), calling f once per key.
func (s *syncMap[V]) get(key string, f func(string) (V, error)) (V, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok {
		return e.v, e.err
	}
	v, err := f(key)
	if s.m == nil {
		s.m = map[string]syncEntry[V]{}
	}
	s.m[key] = syncEntry[V]{v, err}
	return v, err
}
