// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title USCC
 * @notice Validation of the unified social credit code of GB 32100-2015: 18 characters from the alphabet
 * `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O, S, V, Z), positions 3-8 (the administrative division code)
 * digits, and position 18 the check character.
 * @dev Internal functions only: they are compiled into the calling contract. Check character: with
 * `v(c)` the index of `c` in the alphabet and weights `3^(i-1) mod 31` for positions i = 1..17 (that is
 * 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28), the check value is
 * `(31 - sum(v * w) mod 31) mod 31`, written as the character of that index. The off-chain callers
 * (`ledger.whitelist.uscc`) implement the same rule and say which character is wrong; this one only
 * guarantees that the whitelist holds no key that is not a USCC.
 */
library USCC {
    /// @notice The alphabet's size, also the modulus of the check computation.
    uint256 internal constant RADIX = 31;

    /**
     * @notice Whether `code` is a well-formed USCC with a correct check character.
     * @param code the 18 ASCII characters
     * @return true if valid
     */
    function isValid(bytes18 code) internal pure returns (bool) {
        uint256 sum = 0;
        uint256 weight = 1;
        for (uint256 i = 0; i < 17; ++i) {
            uint256 value = charValue(code[i]);
            if (value >= RADIX) return false;
            if (i >= 2 && i < 8 && value > 9) return false;
            sum += value * weight;
            weight = (weight * 3) % RADIX;
        }
        uint256 check = charValue(code[17]);
        return check < RADIX && check == (RADIX - (sum % RADIX)) % RADIX;
    }

    /**
     * @notice The index of an ASCII character in the USCC alphabet.
     * @param c the character
     * @return its value 0..30, or `RADIX` (31) if it is not in the alphabet
     */
    function charValue(bytes1 c) internal pure returns (uint256) {
        uint8 b = uint8(c);
        if (b >= 0x30 && b <= 0x39) return b - 0x30; // 0-9
        if (b >= 0x41 && b <= 0x48) return b - 0x41 + 10; // A-H
        if (b >= 0x4A && b <= 0x4E) return b - 0x4A + 18; // J-N
        if (b >= 0x50 && b <= 0x52) return b - 0x50 + 23; // P-R
        if (b >= 0x54 && b <= 0x55) return b - 0x54 + 26; // T-U
        if (b >= 0x57 && b <= 0x59) return b - 0x57 + 28; // W-Y
        return RADIX;
    }
}
