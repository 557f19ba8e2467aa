// The lessons live here; see issue 3.
import MiniNet
