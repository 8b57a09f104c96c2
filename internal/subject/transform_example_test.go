package subject_test

import (
	"fmt"

	"github.com/natskit/natskit/internal/subject"
)

func ExampleNewTransform() {
	tr, err := subject.NewTransform("orders.*.*", "by-id.{{wildcard(2)}}.$1.{{partition(3,2)}}")
	if err != nil {
		panic(err)
	}
	fmt.Println(tr.Match("orders.eu.17"))
	fmt.Println(tr.Match("invoices.eu.17"))
	_, err = subject.NewTransform("orders.*", "by-id.$2")
	fmt.Println(err)
	// Output:
	// by-id.17.eu.1 <nil>
	//  no matching transforms available
	// invalid mapping destination: wildcard index out of range in $2: [2]
}
