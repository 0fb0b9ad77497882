// Command gorand-vectors prints golden vectors for inferctl's Python port of Go's
// math/rand (v1) as JSON on stdout.
//
// Every number comes from the real math/rand package of the Go toolchain that runs
// this program. The unexported Rand.int31n, which Rand.Shuffle uses, cannot be called
// from outside the package, so its values are read from the first swap that Shuffle
// makes: Shuffle(n, swap) first calls swap(n-1, int31n(n)).
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"runtime"
)

// Participant addresses and model ids in the form gonka uses.
var addresses = []string{
	"gonka108eh38a2pelplqz2lh3ujjnvk7ucdylql6gfmg",
	"gonka10k4rmsg3e9xrmm2my9dp6lal4nxlenck9uur39",
	"gonka12tz8qs5kxjp6qsdgj2u3rzx009z2qf6hjrwrrl",
	"gonka1327uf364ql39e63fax5n8t8y5e8lag4xjl7e49",
}

var modelIDs = []string{"Qwen/QwQ-32B", "Qwen/Qwen2.5-7B-Instruct"}

var fixedSeeds = []int64{
	0, 1, -1, 2, -2, 7, 42, -42, 1000, 123456789, -123456789,
	89482311,             // Go substitutes this value when seed mod (2**31 - 1) is 0
	2147483646,           // 2**31 - 2, the largest Lehmer start
	2147483647,           // 2**31 - 1, which maps to the substitute
	-2147483647,          // also maps to the substitute
	2147483648,           // 2**31
	-2147483648,          // -2**31
	4294967296,           // 2**32
	1 << 62,              // 2**62
	-(1 << 62),           // -2**62
	math.MaxInt64,        // 2**63 - 1
	math.MinInt64,        // -2**63
	math.MinInt64 + 1,    // -2**63 + 1
	-6917529027641081856, // -0x6000000000000000
	0x0123456789abcdef,   // a spread-out bit pattern
	-0x0123456789abcdef,  // its negation
}

// int31nBounds mixes powers of two, small and large values and values next to 2**31,
// including bounds whose rejection threshold is large. Each must be at least 2,
// because Shuffle draws nothing for fewer than 2 elements.
var int31nBounds = []int32{
	2, 3, 4, 5, 6, 7, 10, 16, 31, 64, 100, 1000, 65535, 65536, 1 << 20,
	(1 << 30) - 1, 1 << 30, (1 << 30) + 1, 1<<31 - 2, 1<<31 - 1, 1431655765, 1431655766, 3,
}

var int63nBounds = []int64{
	1, 2, 3, 5, 10, 1000, 1 << 31, 1<<31 + 1, 1 << 40, 1<<62 - 1, 1 << 62,
	1<<62 + 1, 6148914691236517205, math.MaxInt64 - 1, math.MaxInt64,
}

const (
	streamLength  = 16  // values per Int63, Uint32, Uint64 and Int31 case
	longStream    = 700 // Int63 values for seed 1, so every word of the state is used
	maxShuffleLen = 64
)

type vectorFile struct {
	Generator   string        `json:"generator"`
	Description string        `json:"description"`
	CaseCount   int           `json:"case_count"`
	Streams     []streamCase  `json:"streams"`
	Bounded     []boundCase   `json:"bounded"`
	Shuffles    []shuffleCase `json:"shuffles"`
	PocSeeds    []pocSeedCase `json:"poc_seeds"`
	PocSlots    []pocSlotCase `json:"poc_slots"`
}

// streamCase contains the first values of one method on a fresh generator.
type streamCase struct {
	Seed   int64    `json:"seed"`
	Method string   `json:"method"`
	Values []uint64 `json:"values"`
}

// boundCase contains one call per bound, in order, on a single fresh generator.
type boundCase struct {
	Seed   int64   `json:"seed"`
	Method string  `json:"method"`
	Bounds []int64 `json:"bounds"`
	Values []int64 `json:"values"`
}

// shuffleCase contains the slice 0..n-1 after Shuffle on a fresh generator.
type shuffleCase struct {
	Seed int64 `json:"seed"`
	N    int   `json:"n"`
	Perm []int `json:"perm"`
}

type pocSeedCase struct {
	Text string `json:"text"`
	Seed int64  `json:"seed"`
}

type pocSlotCase struct {
	EpochIndex uint64 `json:"epoch_index"`
	Address    string `json:"address"`
	ModelID    string `json:"model_id"`
	Seed       int64  `json:"seed"`
	N          int    `json:"n"`
	Shuffled   []int  `json:"shuffled"`
	Flags      []bool `json:"flags"`
}

func seedFromText(text string) int64 {
	digest := sha256.Sum256([]byte(text))
	return int64(binary.BigEndian.Uint64(digest[:8]))
}

func pocSeedText(epoch uint64, address, modelID string) string {
	return fmt.Sprintf("%d_%s_%s", epoch, address, modelID)
}

func allSeeds() []int64 {
	seeds := append([]int64{}, fixedSeeds...)
	for _, epoch := range []uint64{1, 42} {
		for _, address := range addresses {
			for _, modelID := range modelIDs {
				seeds = append(seeds, seedFromText(pocSeedText(epoch, address, modelID)))
			}
		}
	}
	return seeds
}

func stream(seed int64, method string, count int) streamCase {
	r := rand.New(rand.NewSource(seed))
	values := make([]uint64, count)
	for i := range values {
		switch method {
		case "int63":
			values[i] = uint64(r.Int63())
		case "uint32":
			values[i] = uint64(r.Uint32())
		case "uint64":
			values[i] = r.Uint64()
		case "int31":
			values[i] = uint64(r.Int31())
		default:
			panic("unknown method " + method)
		}
	}
	return streamCase{Seed: seed, Method: method, Values: values}
}

// firstSwapIndex returns the j of Shuffle's first swap, which is r.int31n(n) for
// 2 <= n < 2**31. The swap function panics to leave Shuffle after that swap, so no
// more numbers are drawn.
func firstSwapIndex(r *rand.Rand, n int32) (j int64) {
	type stop struct{}
	defer func() {
		if recovered := recover(); recovered != nil {
			if _, ok := recovered.(stop); !ok {
				panic(recovered)
			}
		}
	}()
	r.Shuffle(int(n), func(_, swapJ int) {
		j = int64(swapJ)
		panic(stop{})
	})
	return j
}

func int31nCase(seed int64) boundCase {
	r := rand.New(rand.NewSource(seed))
	bounds := make([]int64, len(int31nBounds))
	values := make([]int64, len(int31nBounds))
	for i, n := range int31nBounds {
		bounds[i] = int64(n)
		values[i] = firstSwapIndex(r, n)
	}
	return boundCase{Seed: seed, Method: "int31n", Bounds: bounds, Values: values}
}

func int63nCase(seed int64) boundCase {
	r := rand.New(rand.NewSource(seed))
	values := make([]int64, len(int63nBounds))
	for i, n := range int63nBounds {
		values[i] = r.Int63n(n)
	}
	return boundCase{Seed: seed, Method: "int63n", Bounds: int63nBounds, Values: values}
}

func shuffled(seed int64, n int) []int {
	r := rand.New(rand.NewSource(seed))
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	r.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	return perm
}

func pocSlot(epoch uint64, address, modelID string, n int) pocSlotCase {
	seed := seedFromText(pocSeedText(epoch, address, modelID))
	order := shuffled(seed, n)
	flags := make([]bool, n)
	for _, position := range order[:n/2] {
		flags[position] = true
	}
	return pocSlotCase{
		EpochIndex: epoch, Address: address, ModelID: modelID,
		Seed: seed, N: n, Shuffled: order, Flags: flags,
	}
}

func build() vectorFile {
	out := vectorFile{
		Generator: fmt.Sprintf("go version %s %s/%s, math/rand",
			runtime.Version(), runtime.GOOS, runtime.GOARCH),
		Description: "golden vectors for inferctl.epochs.gorand; " +
			"regenerate with tools/gen-gorand-vectors.sh",
	}
	for _, seed := range allSeeds() {
		for _, method := range []string{"int63", "uint32", "uint64", "int31"} {
			out.Streams = append(out.Streams, stream(seed, method, streamLength))
		}
		out.Bounded = append(out.Bounded, int31nCase(seed), int63nCase(seed))
		for n := 0; n <= maxShuffleLen; n++ {
			out.Shuffles = append(out.Shuffles, shuffleCase{seed, n, shuffled(seed, n)})
		}
	}
	out.Streams = append(out.Streams, stream(1, "int63", longStream))

	for _, epoch := range []uint64{0, 1, 2, 42, 18446744073709551615} {
		for _, address := range addresses {
			for _, modelID := range modelIDs {
				text := pocSeedText(epoch, address, modelID)
				out.PocSeeds = append(out.PocSeeds, pocSeedCase{text, seedFromText(text)})
				for _, n := range []int{0, 1, 2, 3, 4, 5, 8, 13, 32} {
					out.PocSlots = append(out.PocSlots, pocSlot(epoch, address, modelID, n))
				}
			}
		}
	}
	out.CaseCount = len(out.Streams) + len(out.Bounded) + len(out.Shuffles) +
		len(out.PocSeeds) + len(out.PocSlots)
	return out
}

func main() {
	encoder := json.NewEncoder(os.Stdout)
	if err := encoder.Encode(build()); err != nil {
		fmt.Fprintln(os.Stderr, "gorand-vectors: failed to encode JSON:", err)
		os.Exit(1)
	}
}
